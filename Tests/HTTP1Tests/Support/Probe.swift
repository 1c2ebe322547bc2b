import Synchronization

/// Records what a handler went through, for tests to wait on.
final class Probe: Sendable {
    private let events = Mutex<[String]>([])

    /// Records `event`.
    func record(_ event: String) {
        events.withLock { $0.append(event) }
    }

    /// Everything recorded so far, in order.
    var recorded: [String] {
        events.withLock { $0 }
    }

    /// Waits until `event` has been recorded; false if it was not within `timeout`.
    func wait(for event: String, timeout: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if recorded.contains(event) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return recorded.contains(event)
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
