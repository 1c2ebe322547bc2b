/// A complete request as handlers see it: head, decoded body and where it came from.
public struct HTTPRequest: Sendable {
    /// A `name=value` pair of the query, percent-decoded.
    public struct QueryItem: Sendable, Hashable {
        /// The decoded name.
        public var name: String
        /// The decoded value; empty when the item had no `=`.
        public var value: String

        /// The `&`-separated items of `query`, percent-decoded with `+` read as a space;
        /// items whose encoding is broken are left out.
        static func items(in query: String?) -> [QueryItem] {
            guard let query, !query.isEmpty else { return [] }
            return query.split(separator: "&", omittingEmptySubsequences: true).compactMap { item in
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = PercentEncoding.decode(parts[0], plusIsSpace: true),
                      let value = parts.count > 1 ? PercentEncoding.decode(parts[1], plusIsSpace: true) : ""
                else { return nil }
                return QueryItem(name: name, value: value)
            }
        }
    }

    /// The request method.
    public var method: HTTPMethod
    /// The request target exactly as sent.
    public var target: String
    /// The path of the target, still percent-encoded.
    public var path: String
    /// The raw query after `?`, or nil.
    public var query: String?
    /// The protocol version the client spoke.
    public var version: HTTPVersion
    /// Header fields in the order received, with case-insensitive lookup.
    public var headers: HTTPHeaders
    /// The body after transfer decoding (empty when there was none).
    public var body: [UInt8]
    /// Trailer fields sent after a chunked body.
    public var trailers: HTTPHeaders
    /// The peer's address, when the server knows it.
    public var remoteAddress: SocketAddress?
    /// Values of the `{name}` segments of the route that matched (set by `HTTPRouter`).
    public var pathParameters: [String: String]
    /// A slot for the request's correlation id; the server leaves it nil so the layer above
    /// can fill it (from `X-Request-ID` or a fresh one) and echo it.
    public var requestID: String?

    /// A request from its parts, for handlers and tests that build one by hand.
    public init(
        method: HTTPMethod, target: String, version: HTTPVersion = .http1_1,
        headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [], trailers: HTTPHeaders = HTTPHeaders(),
        remoteAddress: SocketAddress? = nil
    ) {
        self.method = method
        self.target = target
        if let question = target.firstIndex(of: "?") {
            path = String(target[..<question])
            query = String(target[target.index(after: question)...])
        } else {
            path = target
            query = nil
        }
        self.version = version
        self.headers = headers
        self.body = body
        self.trailers = trailers
        self.remoteAddress = remoteAddress
        pathParameters = [:]
        requestID = nil
    }

    /// A request from what the parser read.
    init(head: HTTPRequestHead, body: [UInt8], trailers: HTTPHeaders, remoteAddress: SocketAddress?) {
        method = head.method
        target = head.target
        path = head.path
        query = head.query
        version = head.version
        headers = head.headers
        self.body = body
        self.trailers = trailers
        self.remoteAddress = remoteAddress
        pathParameters = [:]
        requestID = nil
    }

    /// The query's `&`-separated items, percent-decoded with `+` read as a space (the HTML
    /// form convention). Items whose encoding is broken are left out.
    public var queryItems: [QueryItem] {
        QueryItem.items(in: query)
    }

    /// The value of the first query item with this name.
    public func queryValue(_ name: String) -> String? {
        queryItems.first { $0.name == name }?.value
    }
}
