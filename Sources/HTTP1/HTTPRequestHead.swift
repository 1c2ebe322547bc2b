/// The request line and header section of one request, as the parser validated them.
public struct HTTPRequestHead: Sendable, Equatable {
    /// How the body that follows the head is delimited (RFC 9112 §6.3).
    public enum BodyFraming: Sendable, Equatable {
        /// No body: neither Content-Length nor Transfer-Encoding, or Content-Length: 0.
        case none
        /// Exactly this many bytes follow.
        case contentLength(Int)
        /// A chunked body follows (RFC 9112 §7.1).
        case chunked
    }

    /// The request method.
    public var method: HTTPMethod
    /// The request target exactly as sent.
    public var target: String
    /// The path of the target (still percent-encoded); `*` for asterisk-form and the
    /// authority for authority-form.
    public var path: String
    /// The query of the target after `?` (still percent-encoded), or nil when there is none.
    public var query: String?
    /// The protocol version from the request line.
    public var version: HTTPVersion
    /// The header fields in the order received.
    public var headers: HTTPHeaders
    /// How the body is delimited.
    public var bodyFraming: BodyFraming
    /// Whether the client allows the connection to stay open after the response
    /// (RFC 9112 §9.3: default for HTTP/1.1, opt-in with `keep-alive` for HTTP/1.0).
    public var wantsKeepAlive: Bool
    /// Whether the client waits for `100 Continue` before sending its body (RFC 9110 §10.1.1;
    /// only set for HTTP/1.1 requests that have a body).
    public var expectsContinue: Bool

    /// A head from its parts; the parser is the usual source of these.
    public init(
        method: HTTPMethod, target: String, path: String, query: String?, version: HTTPVersion,
        headers: HTTPHeaders, bodyFraming: BodyFraming, wantsKeepAlive: Bool, expectsContinue: Bool
    ) {
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.bodyFraming = bodyFraming
        self.wantsKeepAlive = wantsKeepAlive
        self.expectsContinue = expectsContinue
    }
}
