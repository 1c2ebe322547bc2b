/// Where prompt sets are kept, as the `store` setting names it: the file store in `data_dir`,
/// or a PostgreSQL database shared by every replica.
public enum StoreLocation: Sendable, Equatable {
    /// ``FileStore`` in the configured data directory (`file`, the default).
    case file
    /// A PostgreSQL database named by a libpq URL,
    /// `postgres://user:password@host:port/db[?sslmode=require]`.
    case postgres(url: String)

    /// The location `text` names: `file`, or a URL starting `postgres://` or `postgresql://`
    /// with something after the scheme; nil for anything else.
    public init?(_ text: String) {
        if text == "file" {
            self = .file
            return
        }
        guard let scheme = Self.schemes.first(where: text.hasPrefix), text.count > scheme.count else { return nil }
        self = .postgres(url: text)
    }

    /// The URL schemes libpq reads as connection URIs.
    static let schemes = ["postgres://", "postgresql://"]

    /// The location as it may be logged or shown in an error: a URL's password, in its
    /// user part or in a `password=` parameter, replaced by `***`.
    public var redacted: String {
        switch self {
        case .file: "file"
        case let .postgres(url): Self.redact(url)
        }
    }

    /// `text` with anything that looks like a password in a connection URL replaced by
    /// `***`; text that is no URL is returned whole. Used wherever the `store` value is
    /// shown, including in errors about a value that did not parse.
    public static func redact(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else { return text }
        var result = String(text[..<schemeEnd.upperBound])
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") {
            let user = authority[..<at]
            if let colon = user.firstIndex(of: ":") {
                result += user[..<colon] + ":***"
            } else {
                result += user
            }
            result += authority[at...]
        } else {
            result += authority
        }
        var tail = String(rest[authorityEnd...])
        if let query = tail.firstIndex(of: "?") {
            let parameters = tail[tail.index(after: query)...].split(separator: "&", omittingEmptySubsequences: false).map { parameter in
                parameter.lowercased().hasPrefix("password=") ? parameter.prefix(9) + "***" : parameter
            }
            tail = String(tail[...query]) + parameters.joined(separator: "&")
        }
        return result + tail
    }
}
