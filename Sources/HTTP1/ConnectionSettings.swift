/// What every connection of a server shares: limits, timeouts, the body budget, the head
/// check and the handlers.
struct ConnectionSettings: Sendable {
    let parserLimits: HTTPParserLimits
    let timeouts: ConnectionStateMachine.Timeouts
    let maxPipelinedRequests: Int
    let serverName: String
    let requestIDHeader: String?
    let startsHandlersOnEventLoop: Bool
    let bodyBudget: BodyBudget
    let overloadRefusalDelay: Duration
    let headCheck: HTTPHeadCheck?
    let immediateHandler: HTTPImmediateHandler?
    let handler: HTTPHandler
    /// The TLS context connections make their sessions from; nil for plain HTTP. Set by
    /// `HTTPServer.start`, which reads the files.
    var tls: TLSContext?

    init(
        configuration: HTTPServer.Configuration, headCheck: HTTPHeadCheck?, immediateHandler: HTTPImmediateHandler? = nil,
        handler: @escaping HTTPHandler
    ) {
        parserLimits = configuration.parserLimits
        timeouts = configuration.timeouts
        maxPipelinedRequests = configuration.maxPipelinedRequests
        serverName = configuration.serverName
        requestIDHeader = configuration.requestIDHeader
        startsHandlersOnEventLoop = configuration.startsHandlersOnEventLoop
        bodyBudget = BodyBudget(limit: configuration.maxInflightBodyBytes)
        overloadRefusalDelay = configuration.overloadRefusalDelay
        self.headCheck = headCheck
        self.immediateHandler = immediateHandler
        self.handler = handler
    }
}
