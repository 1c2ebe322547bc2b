import Dispatch
import Synchronization

/// What readiness knows of the store: asked at most once a second, and never waited on
/// longer than `timeout`, so `/readyz` answers within that even while a database hangs.
final class StoreAvailability: Sendable {
    private struct State {
        var checkedAt: UInt64 = 0
        var failure: String?
        var checking = false
    }

    private let store: any PromptSetStore
    private let timeout: Duration
    private let state = Mutex(State())

    init(store: any PromptSetStore, timeout: Duration = .seconds(4)) {
        self.store = store
        self.timeout = timeout
    }

    /// Why the store cannot serve now, or nil when it can.
    func failure() async -> String? {
        let now = DispatchTime.now().uptimeNanoseconds
        let start = state.withLock { state -> Bool in
            let fresh = now &- state.checkedAt < 1_000_000_000 && state.checkedAt != 0
            guard !fresh, !state.checking else { return false }
            state.checking = true
            return true
        }
        guard start else { return state.withLock { $0.failure } }
        let outcome = Outcome()
        let store = self.store
        Task {
            do throws(PromptSetStoreError) {
                try await store.checkAvailable()
                outcome.settle(nil)
            } catch {
                outcome.settle("\(error)")
            }
        }
        Task { [timeout] in
            try? await Task.sleep(for: timeout)
            outcome.settle("the prompt-set store did not answer within \(timeout)")
        }
        let failure = await outcome.value()
        state.withLock { $0 = State(checkedAt: DispatchTime.now().uptimeNanoseconds, failure: failure, checking: false) }
        return failure
    }

    /// The first of a check's result and its deadline.
    private final class Outcome: Sendable {
        private let settled = Mutex<(done: Bool, value: String?, waiter: CheckedContinuation<String?, Never>?)>((false, nil, nil))

        func settle(_ value: String?) {
            let waiter = settled.withLock { state -> CheckedContinuation<String?, Never>? in
                guard !state.done else { return nil }
                state.done = true
                state.value = value
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: value)
        }

        func value() async -> String? {
            await withCheckedContinuation { continuation in
                let ready = settled.withLock { state -> String?? in
                    if state.done { return .some(state.value) }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}
