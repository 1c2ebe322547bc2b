import Foundation

/// One API key as the keys file keeps it: never the key itself, only its SHA-256.
public struct APIKey: Sendable, Codable, Equatable {
    /// The name the access and audit logs show for requests made with the key.
    public let id: String
    /// SHA-256 of the key's text, 64 lowercase hex digits.
    public let sha256: String
    /// What the key may do.
    public let scopes: [APIKeyScope]
    /// When the key was made, to the second.
    public let createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, sha256, scopes
        case createdAt = "created_at"
    }

    public init(id: String, sha256: String, scopes: [APIKeyScope], createdAt: Date) {
        self.id = id
        self.sha256 = sha256
        self.scopes = scopes
        self.createdAt = createdAt
    }

    /// Whether the key may do what `scope` allows (`admin` includes `score`).
    public func allows(_ scope: APIKeyScope) -> Bool {
        scopes.contains(scope) || (scope == .score && scopes.contains(.admin))
    }
}
