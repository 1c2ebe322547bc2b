/// Decides from a request's head alone whether to refuse it before its body is read: returns
/// the response to send at once (401, 403, 404, 405…), or nil to read the body and hand the
/// request to the handler.
///
/// A refused body is never read: the response goes out as soon as the responses owed before
/// it have, carries `Connection: close`, and whatever the client still sends is drained and
/// dropped until it closes or the lingering timeout passes (RFC 9112 §9.6). A client waiting
/// with `Expect: 100-continue` gets this final status instead of `100 Continue`, so it never
/// sends the body (RFC 9110 §10.1.1).
///
/// It is asked only about requests that announce a body (`Content-Length` above zero or
/// chunked): a request without one costs nothing to read, and its handler answers as usual.
/// It runs on the connection's event loop, between reads, so it must be quick and must not
/// block — consult in-memory state (a lock-protected snapshot, say), never a file or an actor.
public typealias HTTPHeadCheck = @Sendable (HTTPRequestHead) -> HTTPResponse?
