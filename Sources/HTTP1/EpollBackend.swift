import CEpoll
import Glibc
import Synchronization

/// The epoll backend: one thread waiting on one epoll instance. Other threads hand it work
/// through its inbox (an eventfd the epoll watches); timers and the sweep bound each wait.
final class EpollBackend: EventLoopBackend, @unchecked Sendable {
    private let epoll: Epoll
    private let inbox: EventLoopInbox
    private let threadIdentifier = Atomic<UInt>(0)
    private var isStopping = false
    // Touched on every turn, only on the loop's thread, and each access ends before any
    // handler or work it finds runs: exempt from run-time exclusivity checks, as
    // `HTTPConnection`'s state is.
    @exclusivity(unchecked) private var handlers: [UInt64: any EventLoopIOHandler] = [:]
    private var nextToken = EpollBackend.inboxToken + 1
    @exclusivity(unchecked) private var localWork: [() -> Void] = []
    @exclusivity(unchecked) private var timers: [(deadline: ContinuousClock.Instant, work: () -> Void)] = []
    @exclusivity(unchecked) private var sweepDeadline: ContinuousClock.Instant?
    private var sweep: (() -> Void)?

    /// The token of the inbox's eventfd; handlers get the ones after it.
    private static let inboxToken: UInt64 = 0
    /// Most events taken from the kernel per wait; more stay queued for the next one.
    private static let maxEventsPerWait = 256

    /// A backend with its epoll instance and inbox, not yet running.
    init() throws(SystemCallError) {
        epoll = try Epoll()
        inbox = try EventLoopInbox()
        try epoll.add(inbox.descriptor, events: .readable, token: Self.inboxToken)
    }

    var followsInterest: Bool { false }

    /// Starts the loop's thread.
    func start(sweep: @escaping () -> Void) throws(SystemCallError) {
        self.sweep = sweep
        let retained = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { argument in
            let backend = Unmanaged<EpollBackend>.fromOpaque(argument!).takeRetainedValue()
            backend.run()
            return nil
        }, retained.toOpaque())
        guard result == 0 else {
            self.sweep = nil
            retained.release()
            throw SystemCallError(call: "pthread_create", code: result)
        }
        pthread_detach(thread)
    }

    /// Whether the caller runs on the loop's thread.
    var isOnLoop: Bool {
        threadIdentifier.load(ordering: .relaxed) == UInt(pthread_self())
    }

    func execute(_ work: @escaping @Sendable () -> Void) {
        if isOnLoop {
            localWork.append(work)
        } else {
            inbox.post(work)
        }
    }

    func schedule(at deadline: ContinuousClock.Instant, _ work: @escaping () -> Void) {
        timers.append((deadline, work))
    }

    func setSweepDeadline(_ deadline: ContinuousClock.Instant?) {
        sweepDeadline = deadline
    }

    func stop() {
        execute { [self] in isStopping = true }
    }

    // MARK: - Registration

    func register(_ descriptor: Int32, events: IOEvents, handler: any EventLoopIOHandler) throws(SystemCallError) -> UInt64 {
        let token = nextToken
        try epoll.add(descriptor, events: events, token: token)
        nextToken += 1
        handlers[token] = handler
        return token
    }

    func setInterest(_ token: UInt64, _ events: IOEvents) {}

    /// Events the kernel already returned for the descriptor are dropped.
    func unregister(_ token: UInt64, descriptor: Int32, closing: Bool) {
        epoll.remove(descriptor)
        handlers[token] = nil
        if closing { Glibc.close(descriptor) }
    }

    // MARK: - The loop

    private func run() {
        threadIdentifier.store(UInt(pthread_self()), ordering: .relaxed)
        let events = UnsafeMutableBufferPointer<epoll_event>.allocate(capacity: Self.maxEventsPerWait)
        defer { events.deallocate() }
        while !isStopping {
            let count = epoll.wait(into: events, timeoutMilliseconds: waitTimeout())
            for event in events[..<count] {
                let token = event.data.u64
                if token == Self.inboxToken {
                    for work in inbox.takeAll() { work() }
                } else if let handler = handlers[token] {
                    handler.handleIO(IOEvents(rawValue: event.events))
                }
            }
            runLocalWork()
            runDueTimers()
        }
        inbox.close()
        handlers = [:]
        timers = []
        localWork = []
        sweep = nil
        // A later thread may be given the same identifier; it must not pass for this loop.
        threadIdentifier.store(0, ordering: .relaxed)
    }

    /// How long the next wait may last: not past the next sweep or timer, and not at all
    /// while local work is waiting.
    private func waitTimeout() -> Int32 {
        guard localWork.isEmpty else { return 0 }
        var next = sweepDeadline
        for timer in timers {
            next = min(next ?? timer.deadline, timer.deadline)
        }
        guard let next else { return -1 }
        let remaining = ContinuousClock.now.duration(to: next)
        guard remaining > .zero else { return 0 }
        // Rounded up: waking a little early would only find nothing due and wait again.
        let (seconds, attoseconds) = remaining.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: milliseconds)
    }

    /// Runs work queued from this thread, including work that work queues.
    private func runLocalWork() {
        while !localWork.isEmpty {
            let batch = localWork
            localWork = []
            for work in batch { work() }
        }
    }

    private func runDueTimers() {
        let now = ContinuousClock.now
        if let sweepDeadline, now >= sweepDeadline {
            self.sweepDeadline = nil
            sweep?()
        }
        guard timers.contains(where: { $0.deadline <= now }) else { return }
        let due = timers.filter { $0.deadline <= now }
        timers.removeAll { $0.deadline <= now }
        for timer in due { timer.work() }
    }
}
