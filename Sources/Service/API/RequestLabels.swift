import Synchronization

/// What the access log and metrics learn about a request while it is handled: the route
/// pattern it matched (never the raw path: ids would make unbounded series) and the id of
/// the API key it came with (never the key). Set by the route, read by `instrumented`.
final class RequestLabels: Sendable {
    @TaskLocal static var current: RequestLabels?

    private let values = Mutex<(pattern: String?, keyID: String?)>((nil, nil))

    var pattern: String? { values.withLock { $0.pattern } }
    var keyID: String? { values.withLock { $0.keyID } }

    func set(pattern: String) { values.withLock { $0.pattern = pattern } }
    func set(keyID: String) { values.withLock { $0.keyID = keyID } }
}
