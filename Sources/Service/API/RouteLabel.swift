import Synchronization

/// The route pattern a request matched, set by the route and read by the access log and
/// metrics (which must never label by raw path: ids would make unbounded series).
final class RouteLabel: Sendable {
    @TaskLocal static var current: RouteLabel?

    private let value = Mutex<String?>(nil)

    var pattern: String? { value.withLock { $0 } }

    func set(_ pattern: String) { value.withLock { $0 = pattern } }
}
