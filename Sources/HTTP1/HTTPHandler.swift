/// Answers one request. The server runs each call in its own `Task`, one request at a time per
/// connection (pipelined requests wait their turn, so their responses keep request order).
///
/// When the client disconnects before the response has been written, the server cancels
/// that task: long work should check `Task.isCancelled` or use `withTaskCancellationHandler`
/// to drop it. A cancelled handler's response is discarded.
public typealias HTTPHandler = @Sendable (HTTPRequest) async -> HTTPResponse
