import Glibc

extension HTTPServer {
    /// Everything the server can be tuned by. Every field has a safe default; tests shorten
    /// the timeouts.
    public struct Configuration: Sendable {
        /// Host or address to listen on; every address it resolves to is bound (both
        /// 127.0.0.1 and ::1 for `localhost`). Use `0.0.0.0` or `::` to listen on all
        /// interfaces; the default listens on loopback only.
        public var host = "127.0.0.1"
        /// Port to listen on; 0 lets the kernel choose, and `HTTPServer.port` reports it.
        public var port = 8080
        /// Length of the kernel's queue of connections not yet accepted (`listen(2)` backlog).
        public var backlog: Int32 = 512
        /// Most connections open at once. Beyond it a new connection is answered `503`
        /// (`too_many_connections`, `Retry-After: 1`) and closed at once, rather than left
        /// waiting in the kernel's backlog.
        public var maxConnections = 1024
        /// Longest request line with its CRLF (414 beyond).
        public var maxRequestLineBytes = 8 * 1024
        /// Largest header section, and largest trailer section (431 beyond).
        public var maxHeaderBytes = 32 * 1024
        /// Most header fields, and most trailer fields (431 beyond).
        public var maxHeaderCount = 100
        /// Largest request body after chunked decoding (413 beyond).
        public var maxBodyBytes = 64 * 1024 * 1024
        /// Most request-body bytes held at once across all connections. A request whose body
        /// would not fit — its `Content-Length` when the head arrives, a chunked body as its
        /// chunks are announced — is answered `503` (`body_budget_exhausted`, `Retry-After: 1`)
        /// and closed before its body is read. Bytes count from then until the handler given
        /// the body returns (or the request is refused, or the connection closes). Must be at
        /// least `maxBodyBytes`, or a body within limits could never be admitted.
        public var maxInflightBodyBytes = 256 * 1024 * 1024
        /// Time allowed to receive a whole header section — from accept (with TLS, from the
        /// end of the handshake) for a connection's first request, from its first byte for
        /// later ones. Slow clients get 408 and are closed (the slowloris defence).
        public var headerTimeout = Duration.seconds(10)
        /// Time allowed to receive a whole body after its header section (408 and close).
        public var bodyTimeout = Duration.seconds(60)
        /// How long a kept-alive connection may sit between requests before it is closed.
        public var idleTimeout = Duration.seconds(30)
        /// How long a response may wait for the client to read more of it before the
        /// connection is dropped.
        public var writeTimeout = Duration.seconds(30)
        /// After a final response (one with `Connection: close`), how long the server keeps
        /// reading and discarding input before closing, so a client still sending is not
        /// answered with a reset that destroys the response (RFC 9112 §9.6).
        public var lingeringCloseTimeout = Duration.seconds(2)
        /// How long a refusal for overload — a `429` or `503` the head check gives, or the body
        /// budget's `503` — is held before it is sent. A client that ignores `Retry-After` and
        /// asks again as soon as it is answered then asks at most once per delay per
        /// connection, so a flood of refused requests cannot take the processor from the work
        /// that was admitted. The held connection reads nothing (its body stays unread) and
        /// closes at once if the client leaves. Zero answers at once.
        public var overloadRefusalDelay = Duration.zero
        /// Default time `shutdown` lets in-flight requests finish before closing them.
        public var shutdownGracePeriod = Duration.seconds(10)
        /// Most requests a connection may have read ahead of their responses (pipelining);
        /// the server stops reading from that connection until it has answered some.
        public var maxPipelinedRequests = 16
        /// Value of the `Server` header; empty to send none.
        public var serverName = "http1"
        /// The header that carries a request id on every response; the server adds a fresh id
        /// to any response that has none (its own error answers, and handlers that set none).
        /// Nil turns this off.
        public var requestIDHeader: String? = "X-Request-ID"
        /// Number of event-loop threads connections are spread over (default: one per CPU).
        public var eventLoopCount = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        /// How the event loops wait for readiness and timers: `.epoll` (a thread per loop on
        /// its own epoll instance) or `.dispatch` (a serial dispatch queue per loop with
        /// dispatch sources). Both serve the same; README "Speed" has how they compare.
        public var ioBackend = IOBackend.default
        /// Whether a handler starts at once on its connection's event loop (`Task.immediate`)
        /// and stays there until it first suspends. That spares quick handlers two thread
        /// hand-offs per request (a third of the per-request CPU on small responses); the
        /// price is that synchronous work before the handler's first `await` holds up the
        /// other connections of that loop. With `false`, handlers start on Swift's global
        /// executor instead.
        public var startsHandlersOnEventLoop = true
        /// Serve HTTPS with this certificate and key instead of plain HTTP. The files are
        /// read by `start`, which fails naming a file that is unreadable, malformed or does
        /// not match; `HTTPServer.reloadTLS` reads them again. Plain HTTP sent to the port is
        /// answered `400 https_required` and closed.
        public var tls: TLSConfiguration?

        /// The default configuration.
        public init() {}

        /// The parser limits these settings imply.
        var parserLimits: HTTPParserLimits {
            HTTPParserLimits(
                maxRequestLineBytes: maxRequestLineBytes, maxHeaderBytes: maxHeaderBytes,
                maxHeaderCount: maxHeaderCount, maxBodyBytes: maxBodyBytes
            )
        }

        /// The connection timeouts these settings imply.
        var timeouts: ConnectionStateMachine.Timeouts {
            ConnectionStateMachine.Timeouts(
                header: headerTimeout, body: bodyTimeout, idle: idleTimeout,
                write: writeTimeout, lingeringClose: lingeringCloseTimeout,
                handshake: tls?.handshakeTimeout ?? .seconds(10)
            )
        }

        /// Checks every value is usable, naming the first that is not.
        func validate() throws(HTTPServerError) {
            func require(_ condition: Bool, _ message: String) throws(HTTPServerError) {
                if !condition { throw .invalidConfiguration(message) }
            }
            try require((0...65535).contains(port), "port must be between 0 and 65535, not \(port)")
            try require(backlog > 0, "backlog must be positive")
            try require(maxConnections > 0, "maxConnections must be positive")
            try require(maxRequestLineBytes >= 16, "maxRequestLineBytes must be at least 16")
            try require(maxHeaderBytes >= 2, "maxHeaderBytes must be at least 2")
            try require(maxHeaderCount > 0, "maxHeaderCount must be positive")
            try require(maxBodyBytes >= 0, "maxBodyBytes must not be negative")
            try require(
                maxInflightBodyBytes >= maxBodyBytes,
                "maxInflightBodyBytes (\(maxInflightBodyBytes)) must be at least maxBodyBytes (\(maxBodyBytes))"
            )
            try require(maxPipelinedRequests > 0, "maxPipelinedRequests must be positive")
            try require(eventLoopCount > 0, "eventLoopCount must be positive")
            for (name, value) in [
                ("headerTimeout", headerTimeout), ("bodyTimeout", bodyTimeout), ("idleTimeout", idleTimeout),
                ("writeTimeout", writeTimeout), ("lingeringCloseTimeout", lingeringCloseTimeout),
                ("shutdownGracePeriod", shutdownGracePeriod), ("overloadRefusalDelay", overloadRefusalDelay),
                ("tls.handshakeTimeout", tls?.handshakeTimeout ?? .zero),
            ] {
                try require(value >= .zero, "\(name) must not be negative")
            }
            if let tls {
                try require(!tls.certificateChainFile.isEmpty, "tls.certificateChainFile must name a PEM file")
                try require(!tls.privateKeyFile.isEmpty, "tls.privateKeyFile must name a PEM file")
            }
            try require(serverName.utf8.allSatisfy(HTTPSyntax.isFieldValueCharacter), "serverName must not contain control characters")
        }
    }
}
