/// Answers a request at once, on its connection's event loop and without a `Task`, or
/// returns nil to hand it to the server's `HTTPHandler` as usual.
///
/// For answers that need no waiting and no work to speak of (a health check): each request
/// the handler answers costs the creation, scheduling and teardown of a task, which for such
/// a request is a good part of its whole cost. The server asks it first about every request,
/// in the request's turn, and treats its answer as the handler's (its response is checked,
/// given its request id and written in order). Being synchronous, it runs on the event loop
/// whatever `HTTPServer.Configuration.startsHandlersOnEventLoop` says, cannot be cancelled,
/// and must return quickly; anything that might block or take time belongs in the handler.
public typealias HTTPImmediateHandler = @Sendable (HTTPRequest) -> HTTPResponse?
