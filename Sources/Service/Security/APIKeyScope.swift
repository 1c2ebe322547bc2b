/// What an API key may do. `admin` includes everything `score` may do.
public enum APIKeyScope: String, Sendable, Codable, CaseIterable, Comparable {
    /// Scoring images and reading prompt sets.
    case score
    /// Registering, calibrating, setting thresholds of and deleting prompt sets.
    case admin

    public static func < (lhs: APIKeyScope, rhs: APIKeyScope) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
