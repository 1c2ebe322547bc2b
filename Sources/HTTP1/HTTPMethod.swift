/// A request method token (RFC 9110 §9). Methods are case-sensitive: `get` is not `GET`.
public struct HTTPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The method token exactly as it appeared on the request line.
    public let rawValue: String

    /// Wraps any method token; the parser has already checked it is a `token` (RFC 9110 §5.6.2).
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// Shorthand for `init(rawValue:)`.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    public static let get = HTTPMethod("GET")
    public static let head = HTTPMethod("HEAD")
    public static let post = HTTPMethod("POST")
    public static let put = HTTPMethod("PUT")
    public static let delete = HTTPMethod("DELETE")
    public static let options = HTTPMethod("OPTIONS")
    public static let patch = HTTPMethod("PATCH")
    public static let connect = HTTPMethod("CONNECT")
    public static let trace = HTTPMethod("TRACE")
    /// A safe method with a body (the IETF's QUERY method, in IANA's method registry).
    public static let query = HTTPMethod("QUERY")

    /// The methods this server knows: RFC 9110's registered set plus PATCH (RFC 5789) and
    /// QUERY. They reach the router, which answers a path that does not serve one with 405
    /// and `Allow` (no route serves CONNECT, which would open a tunnel, or TRACE, which
    /// reflects credentials back). Any other method is answered with 501 Not Implemented
    /// (RFC 9110 §9.1), as the server cannot know what it means.
    public static let implemented = Set(implementedByFrequency)

    /// ``implemented``, the methods most often asked for first: looked through by
    /// ``isImplemented`` for every request, where comparing a few short strings costs less
    /// than hashing one.
    private static let implementedByFrequency: [HTTPMethod] = [
        .get, .post, .head, .put, .delete, .options, .patch, .connect, .trace, .query,
    ]

    /// Whether the server knows this method; others get 501 before any handler runs.
    public var isImplemented: Bool {
        Self.implementedByFrequency.contains(self)
    }

    public var description: String {
        rawValue
    }
}
