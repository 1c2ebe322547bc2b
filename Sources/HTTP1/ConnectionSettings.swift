/// What every connection of a server shares: limits, timeouts and the handler.
struct ConnectionSettings: Sendable {
    let parserLimits: HTTPParserLimits
    let timeouts: ConnectionStateMachine.Timeouts
    let maxPipelinedRequests: Int
    let serverName: String
    let requestIDHeader: String?
    let startsHandlersOnEventLoop: Bool
    let handler: HTTPHandler
    /// The TLS context connections make their sessions from; nil for plain HTTP. Set by
    /// `HTTPServer.start`, which reads the files.
    var tls: TLSContext?

    init(configuration: HTTPServer.Configuration, handler: @escaping HTTPHandler) {
        parserLimits = configuration.parserLimits
        timeouts = configuration.timeouts
        maxPipelinedRequests = configuration.maxPipelinedRequests
        serverName = configuration.serverName
        requestIDHeader = configuration.requestIDHeader
        startsHandlersOnEventLoop = configuration.startsHandlersOnEventLoop
        self.handler = handler
    }
}
