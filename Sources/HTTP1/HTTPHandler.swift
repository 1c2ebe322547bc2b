/// Answers one request. The server runs each call in its own `Task`, one request at a time per
/// connection (pipelined requests wait their turn, so their responses keep request order).
///
/// By default that task starts immediately on the connection's event loop and runs there
/// until its first suspension (`HTTPServer.Configuration.startsHandlersOnEventLoop`): quick
/// handlers cost no thread switches, but long synchronous work should come after an `await`
/// (on an actor, or a detached task) so the loop keeps serving its other connections.
///
/// When the client disconnects before the response has been written, the server cancels
/// that task: long work should check `Task.isCancelled` or use `withTaskCancellationHandler`
/// to drop it. A cancelled handler's response is discarded.
public typealias HTTPHandler = @Sendable (HTTPRequest) async -> HTTPResponse
