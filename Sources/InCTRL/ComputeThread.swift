import Dispatch
import Foundation
import Synchronization

/// One long-lived thread that runs submitted jobs in order.
///
/// oneDNN parallelises each kernel with OpenMP, and OpenMP keeps a team of worker threads per
/// calling thread. A dispatch queue may run consecutive jobs on different threads, each of
/// which then brings its own team; on two cores the idle teams' spinning workers compete with
/// the working one (measured: full-size fp32 forwards through a dispatch queue took
/// 310–329 ms, from this thread 222–297 ms, in the same conditions). Running every job on
/// this one thread keeps a single team.
final class ComputeThread: Sendable {
    private enum Job {
        case run(@Sendable () -> Void)
        case stop
    }

    /// The jobs not yet taken, shared with the thread.
    private final class Queue: Sendable {
        let jobs = Mutex<[Job]>([])
        let pending = DispatchSemaphore(value: 0)

        func enqueue(_ job: Job) {
            jobs.withLock { $0.append(job) }
            pending.signal()
        }

        func next() -> Job {
            pending.wait()
            return jobs.withLock { $0.removeFirst() }
        }
    }

    private let queue = Queue()

    /// Starts the thread, named `name` (as `top -H` shows it).
    init(name: String) {
        let thread = Thread { [queue] in
            // Named from inside: the name then also reaches the OpenMP workers it starts.
            Thread.current.name = String(name.prefix(15))
            while case let .run(work) = queue.next() { work() }
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    deinit {
        queue.enqueue(.stop)
    }

    /// Runs `work` on the thread after every job submitted before it.
    func submit(_ work: @escaping @Sendable () -> Void) {
        queue.enqueue(.run(work))
    }
}
