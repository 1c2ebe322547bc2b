import Foundation
import Tensor

/// The keys file (`api_keys_file`): the keys' ids, scopes and SHA-256 digests, as JSON,
/// written atomically with permissions 0600. The keys themselves are printed once, when
/// made, and never stored.
///
/// ```
/// {"format": "inctrl-api-keys/1", "keys": [{"id": "line-3", "sha256": "…", "scopes": ["score"], "created_at": "…"}]}
/// ```
public struct APIKeyFile: Sendable, Equatable {
    /// The format this version reads and writes.
    public static let format = "inctrl-api-keys/1"
    /// The largest keys file read.
    static let maxBytes = 4 << 20

    /// The keys, in the order they were made.
    public var keys: [APIKey]

    public init(keys: [APIKey] = []) {
        self.keys = keys
    }

    private struct Document: Codable {
        let format: String
        let keys: [APIKey]
    }

    /// The keys file at `path`; a file that does not exist yet holds no keys when
    /// `missingIsEmpty` (for `inctrl keys create`), else is an error (for the server).
    public static func read(_ path: String, missingIsEmpty: Bool = false) throws(APIKeyFileError) -> APIKeyFile {
        if missingIsEmpty, !FileManager.default.fileExists(atPath: path) { return APIKeyFile() }
        let data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            if let size = attributes[.size] as? Int, size > maxBytes {
                throw APIKeyFileError.invalid(path: path, reason: "it is \(size) bytes, more than \(maxBytes)")
            }
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as APIKeyFileError {
            throw error
        } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let document: Document
        do {
            document = try decoder.decode(Document.self, from: data)
        } catch {
            throw .invalid(path: path, reason: "\(error)")
        }
        guard document.format == format else {
            throw .invalid(path: path, reason: "its format is '\(document.format)'; this version reads '\(format)'")
        }
        var seen: Set<String> = []
        for key in document.keys {
            guard Self.isValidID(key.id) else { throw .invalid(path: path, reason: "key id '\(key.id)' is not valid") }
            guard seen.insert(key.id).inserted else { throw .invalid(path: path, reason: "key id '\(key.id)' appears twice") }
            guard key.sha256.utf8.count == 64, key.sha256.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }) else {
                throw .invalid(path: path, reason: "key '\(key.id)' has no valid sha256")
            }
            guard !key.scopes.isEmpty else { throw .invalid(path: path, reason: "key '\(key.id)' has no scope") }
        }
        return APIKeyFile(keys: document.keys)
    }

    /// Writes the file atomically, readable by its owner only.
    public func write(to path: String) throws(APIKeyFileError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        do {
            let bytes = try encoder.encode(Document(format: Self.format, keys: keys))
            try AtomicFile.write(to: URL(fileURLWithPath: path), permissions: 0o600) { try $0.write([UInt8](bytes) + [UInt8(ascii: "\n")]) }
        } catch {
            throw .unwritable(path: path, reason: "\(error)")
        }
    }

    /// Makes a new key for `id` with `scopes`: 256 random bits from the system's generator,
    /// URL-safe base64 with the prefix `ik_`. Returns the key's text, which is kept nowhere.
    public mutating func create(id: String, scopes: [APIKeyScope], now: Date = Date()) throws(APIKeyFileError) -> String {
        guard Self.isValidID(id) else { throw .invalidID(id) }
        guard !keys.contains(where: { $0.id == id }) else { throw .duplicateID(id) }
        guard !scopes.isEmpty else { throw .noScopes }
        var generator = SystemRandomNumberGenerator()
        let random = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let text = "ik_" + Data(random).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        keys.append(APIKey(
            id: id, sha256: SHA256.hex(Array(text.utf8)), scopes: Array(Set(scopes)).sorted(),
            createdAt: Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))))
        return text
    }

    /// Removes the key `id`.
    public mutating func revoke(id: String) throws(APIKeyFileError) {
        guard let index = keys.firstIndex(where: { $0.id == id }) else { throw .unknownID(id) }
        keys.remove(at: index)
    }

    /// 1 to 64 ASCII letters, digits, `.`, `_` or `-`: safe in logs and metrics.
    static func isValidID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count) && id.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
    }
}
