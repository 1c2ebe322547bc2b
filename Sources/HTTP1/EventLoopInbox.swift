import CEpoll
import Glibc
import Synchronization

/// Work handed to an event loop from other threads: a lock-protected queue, and an eventfd
/// the loop's epoll watches so that posting wakes a loop that is waiting.
///
/// Only the first post after the loop last emptied the queue signals the eventfd; later
/// ones find the wakeup pending and skip the system call, so a busy loop that is handed many
/// completions at once pays for one wakeup.
final class EventLoopInbox: Sendable {
    private struct State: ~Copyable {
        var work: [@Sendable () -> Void] = []
        /// The eventfd has been signalled and the loop has not emptied the queue since.
        var isWakeupPending = false
        /// The loop has stopped: work posted now is refused, and the eventfd is closed.
        var isClosed = false
    }

    /// The eventfd, for the loop's epoll to watch.
    let descriptor: Int32
    private let state = Mutex(State())

    /// An empty inbox with its own eventfd.
    init() throws(SystemCallError) {
        descriptor = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard descriptor >= 0 else { throw .last("eventfd") }
    }

    deinit {
        state.withLock { state in
            if !state.isClosed { Glibc.close(descriptor) }
        }
    }

    /// Queues `work` and wakes the loop if it may be waiting. Returns false (dropping the
    /// work) once the loop has stopped.
    @discardableResult
    func post(_ work: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard !state.isClosed else { return false }
            state.work.append(work)
            if !state.isWakeupPending {
                state.isWakeupPending = true
                // Written under the lock, so `close` cannot close the descriptor (and the
                // number be reused) between the check and the write.
                var one: UInt64 = 1
                _ = Glibc.write(descriptor, &one, MemoryLayout<UInt64>.size)
            }
            return true
        }
    }

    /// Consumes the wakeup and returns the queued work, oldest first. Called by the loop when
    /// its epoll reports the eventfd readable.
    func takeAll() -> [@Sendable () -> Void] {
        // The counter is reset before the flag is cleared, so a post that comes after the
        // flag is cleared always leaves the eventfd readable again.
        var counter: UInt64 = 0
        _ = Glibc.read(descriptor, &counter, MemoryLayout<UInt64>.size)
        return state.withLock { state in
            state.isWakeupPending = false
            let work = state.work
            state.work = []
            return work
        }
    }

    /// Refuses later posts and closes the eventfd; work still queued is never run.
    func close() {
        state.withLock { state in
            guard !state.isClosed else { return }
            state.isClosed = true
            Glibc.close(descriptor)
        }
    }
}
