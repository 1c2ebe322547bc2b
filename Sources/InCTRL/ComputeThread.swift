import Dispatch
import Foundation
import Synchronization

/// One long-lived thread that runs submitted jobs in order, and runs batchable members
/// (queries) together.
///
/// oneDNN parallelises each kernel with OpenMP, and OpenMP keeps a team of worker threads per
/// calling thread. A dispatch queue may run consecutive jobs on different threads, each of
/// which then brings its own team; on two cores the idle teams' spinning workers compete with
/// the working one (measured: full-size fp32 forwards through a dispatch queue took
/// 310–329 ms, from this thread 222–297 ms, in the same conditions). Running every job on
/// this one thread keeps a single team.
///
/// Members are batched: when the thread takes a member from the head of the queue it also
/// takes every other member waiting anywhere in the queue, up to `batching.maxBatch` in all,
/// and, with a non-zero `batching.window`, waits up to that long for more to arrive before it
/// hands them to `runBatch` in one call. Plain jobs keep their order; a member can only move
/// ahead of a plain job submitted before it, never behind one (each turn starts at the head).
final class ComputeThread<Member: Sendable>: Sendable {
    /// How members are gathered into one call of `runBatch`.
    struct Batching: Sendable, Equatable {
        /// The most members in one call (1: each runs alone).
        var maxBatch: Int
        /// How long to wait for more members once one is taken; zero takes only those
        /// already waiting.
        var window: Duration
    }

    private enum Job {
        case run(@Sendable () -> Void)
        case member(Member)
        case stop
    }

    /// What the thread does next.
    private enum Step {
        case run(@Sendable () -> Void)
        case batch([Member])
        case stop
    }

    /// The jobs not yet taken, shared with the thread.
    ///
    /// `@unchecked Sendable`: `jobs` is only touched while `condition` is locked.
    private final class Queue: @unchecked Sendable {
        private let condition = NSCondition()
        private var jobs: [Job] = []

        func enqueue(_ job: Job) {
            condition.lock()
            jobs.append(job)
            condition.signal()
            condition.unlock()
        }

        func next(_ batching: Batching) -> Step {
            condition.lock()
            defer { condition.unlock() }
            while jobs.isEmpty { condition.wait() }
            switch jobs.removeFirst() {
            case let .run(work): return .run(work)
            case .stop: return .stop
            case let .member(first):
                var batch = [first]
                takeMembers(into: &batch, limit: batching.maxBatch)
                if batching.window > .zero, batch.count < batching.maxBatch {
                    let deadline = Date(timeIntervalSinceNow: batching.window.inSeconds)
                    // `wait(until:)` is false once the deadline has passed.
                    while batch.count < batching.maxBatch, condition.wait(until: deadline) {
                        takeMembers(into: &batch, limit: batching.maxBatch)
                    }
                }
                return .batch(batch)
            }
        }

        /// Members submitted and not yet taken.
        var waitingMembers: Int {
            condition.lock()
            defer { condition.unlock() }
            return jobs.count { if case .member = $0 { true } else { false } }
        }

        /// Moves waiting members into `batch`, oldest first, until it holds `limit`.
        private func takeMembers(into batch: inout [Member], limit: Int) {
            guard batch.count < limit else { return }
            var kept: [Job] = []
            kept.reserveCapacity(jobs.count)
            for job in jobs {
                if case let .member(member) = job, batch.count < limit {
                    batch.append(member)
                } else {
                    kept.append(job)
                }
            }
            jobs = kept
        }
    }

    private let queue = Queue()

    /// Starts the thread, named `name` (as `top -H` shows it), handing gathered members to
    /// `runBatch`.
    init(name: String, batching: Batching, runBatch: @escaping @Sendable ([Member]) -> Void) {
        let batching = Batching(maxBatch: max(1, batching.maxBatch), window: max(.zero, batching.window))
        let thread = Thread { [queue] in
            // Named from inside: the name then also reaches the OpenMP workers it starts.
            Thread.current.name = String(name.prefix(15))
            loop: while true {
                switch queue.next(batching) {
                case let .run(work): work()
                case let .batch(members): runBatch(members)
                case .stop: break loop
                }
            }
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

    /// Members submitted and not yet taken into a batch.
    var waitingMembers: Int { queue.waitingMembers }

    /// Queues `member` to be run in a batch.
    func submit(member: Member) {
        queue.enqueue(.member(member))
    }
}

extension ComputeThread where Member == Never {
    /// A thread for plain jobs only.
    convenience init(name: String) {
        self.init(name: name, batching: Batching(maxBatch: 1, window: .zero)) { _ in }
    }
}
