/// What a handler answers. The server adds `Date`, `Server`, `Content-Length` and
/// `Connection` itself, and sends no body for HEAD requests or statuses that forbid one.
public struct HTTPResponse: Sendable {
    /// The status.
    public var status: HTTPStatus
    /// Header fields to send. `Content-Length`, `Transfer-Encoding` and `Connection` are the
    /// server's to set; a `Connection: close` here makes it close after this response.
    public var headers: HTTPHeaders
    /// The content.
    public var body: [UInt8]

    /// A response with raw bytes.
    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response with a text body of the given media type.
    public init(status: HTTPStatus = .ok, contentType: String, body: String) {
        self.init(status: status, headers: ["Content-Type": contentType], body: Array(body.utf8))
    }
}
