import Foundation

/// The threads that run a request's CPU-bound work outside the model (decoding and resizing
/// images, drawing pictures), off the HTTP event loops and Swift's cooperative threads, at the
/// lowest scheduling priority (`nice` 19).
///
/// Why the lowest: the forward passes run on the compute thread and its OpenMP team, one
/// thread per core, and each oneDNN kernel ends in a barrier. A decode that takes a core from
/// one of those threads stalls the whole team until it gives the core back, so on a machine
/// with as many busy threads as cores, decoding the next request at the same priority slowed
/// the forward running meanwhile by more than the decode itself took (`scripts/load-service`:
/// 4 clients answered fewer scores than 1). At the lowest priority the decode runs when the
/// team leaves a core free: between forwards, and while the queue waits for it, so it still
/// overlaps the previous request's forward rather than adding to it. When nothing else runs,
/// the priority changes nothing.
///
/// A fixed team of threads, one per online CPU: the work is CPU-bound, so more would only
/// share the same cores. Work waits in one FIFO queue; how much can be waiting is bounded by
/// the requests that reach it (each is admitted by the connection and body limits first).
final class OffloadPool: Sendable {
    /// The pool every `offload` call uses, started on first use.
    static let shared = OffloadPool(threads: ProcessInfo.processInfo.activeProcessorCount, niceness: 19)

    /// The work not yet taken, shared with the threads.
    ///
    /// `@unchecked Sendable`: `work` is only touched while `condition` is locked.
    private final class Queue: @unchecked Sendable {
        private let condition = NSCondition()
        private var work: [@Sendable () -> Void] = []
        private var head = 0

        func enqueue(_ item: @escaping @Sendable () -> Void) {
            condition.lock()
            work.append(item)
            condition.signal()
            condition.unlock()
        }

        func next() -> @Sendable () -> Void {
            condition.lock()
            defer { condition.unlock() }
            while head == work.count { condition.wait() }
            let item = work[head]
            head += 1
            if head == work.count {
                work.removeAll(keepingCapacity: true)
                head = 0
            }
            return item
        }
    }

    private let queue = Queue()

    /// Starts `threads` threads (at least one), named `inctrl-offload`, each at `niceness`.
    init(threads: Int, niceness: Int32) {
        for _ in 0..<max(1, threads) {
            let thread = Thread { [queue] in
                Thread.current.name = "inctrl-offload"
                // On Linux the nice value belongs to the thread, and `who` 0 is the calling
                // thread. Lowering one's own priority needs no privilege; should it still
                // fail, the work runs at normal priority.
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
                while true { queue.next()() }
            }
            thread.start()
        }
    }

    /// Runs `work` on one of the pool's threads, after the work submitted before it has started.
    func submit(_ work: @escaping @Sendable () -> Void) {
        queue.enqueue(work)
    }
}
