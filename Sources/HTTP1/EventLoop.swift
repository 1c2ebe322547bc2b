import CEpoll
import Glibc
import Synchronization

/// Something an event loop reports readiness to.
protocol EventLoopIOHandler: AnyObject {
    /// The kernel reported `events` on the handler's descriptor. Runs on the loop's thread.
    func handleIO(_ events: IOEvents)
}

/// One thread waiting on one epoll instance. It owns a set of connections: everything about
/// them is touched only on this thread, so they need no locks. Other threads hand it work
/// through its inbox. It also enforces all its connections' deadlines with one sweep, keeps
/// the scratch buffer they read into, and formats the `Date` header once a second for them.
///
/// Methods without a note run on the loop's thread, or before `start`.
final class EventLoop: @unchecked Sendable {
    /// Scratch space a connection reads into before handing the bytes to its parser.
    let readBuffer: UnsafeMutableRawBufferPointer

    private let epoll: Epoll
    private let inbox: EventLoopInbox
    private let threadIdentifier = Atomic<UInt>(0)
    private var isStopping = false
    private var handlers: [UInt64: any EventLoopIOHandler] = [:]
    private var nextToken = EventLoop.inboxToken + 1
    private var localWork: [() -> Void] = []
    private var timers: [(deadline: ContinuousClock.Instant, work: () -> Void)] = []

    private var server: HTTPServer?
    private var connections: [ObjectIdentifier: HTTPConnection] = [:]
    private var dateCache = HTTPDateCache()
    private var scheduledSweep: ContinuousClock.Instant?
    private var shutdownDeadline: ContinuousClock.Instant?
    private var hasReportedDrained = false

    /// The token of the inbox's eventfd; handlers get the ones after it.
    private static let inboxToken: UInt64 = 0
    /// Most events taken from the kernel per wait; more stay queued for the next one.
    private static let maxEventsPerWait = 256
    /// Deadlines closer together than this are handled in one sweep, so a burst of
    /// connections with staggered deadlines costs a few sweeps rather than one each.
    private static let sweepCoalescing = Duration.milliseconds(5)

    /// A loop with its epoll instance and inbox, not yet running.
    init() throws(SystemCallError) {
        epoll = try Epoll()
        inbox = try EventLoopInbox()
        try epoll.add(inbox.descriptor, events: .readable, token: Self.inboxToken)
        readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    }

    deinit {
        readBuffer.deallocate()
    }

    /// Attaches the loop to the server it reports to; called before `start`.
    func attach(to server: HTTPServer) {
        self.server = server
    }

    /// Starts the loop's thread. Called once, from any thread.
    func start() throws(SystemCallError) {
        let retained = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { argument in
            let loop = Unmanaged<EventLoop>.fromOpaque(argument!).takeRetainedValue()
            loop.run()
            return nil
        }, retained.toOpaque())
        guard result == 0 else {
            retained.release()
            throw SystemCallError(call: "pthread_create", code: result)
        }
        pthread_detach(thread)
    }

    /// Whether the caller runs on this loop's thread.
    var isCurrentThread: Bool {
        threadIdentifier.load(ordering: .relaxed) == UInt(pthread_self())
    }

    /// Runs `work` on the loop's thread soon, after the events being handled now. Callable
    /// from any thread; work handed over after the loop has stopped is dropped.
    func execute(_ work: @escaping @Sendable () -> Void) {
        if isCurrentThread {
            localWork.append(work)
        } else {
            inbox.post(work)
        }
    }

    /// Runs `work` on the loop's thread once `deadline` has passed.
    func schedule(at deadline: ContinuousClock.Instant, _ work: @escaping () -> Void) {
        timers.append((deadline, work))
    }

    /// Stops the loop after the events being handled now, without waiting for its
    /// connections; for a server that failed to start. Callable from any thread.
    func stop() {
        execute { [self] in isStopping = true }
    }

    // MARK: - Registration

    /// Starts reporting `events` on `descriptor` to `handler`; returns the token that
    /// `unregister` takes.
    func register(_ descriptor: Int32, events: IOEvents, handler: any EventLoopIOHandler) throws(SystemCallError) -> UInt64 {
        let token = nextToken
        try epoll.add(descriptor, events: events, token: token)
        nextToken += 1
        handlers[token] = handler
        return token
    }

    /// Stops reporting events on `descriptor`. Events the kernel already returned for it are
    /// dropped, so its handler hears nothing more even if the number is reused at once.
    func unregister(_ token: UInt64, descriptor: Int32) {
        epoll.remove(descriptor)
        handlers[token] = nil
    }

    // MARK: - Connections

    /// Takes over an accepted socket.
    func adopt(socket: Int32, settings: ConnectionSettings) {
        let connection = HTTPConnection(socket: socket, loop: self, settings: settings, acceptedAt: .now)
        guard connection.start() else {
            server?.connectionClosed()
            return
        }
        connections[ObjectIdentifier(connection)] = connection
        if shutdownDeadline != nil { connection.beginShutdown() }
    }

    /// The current `Date` header value.
    func currentDate() -> [UInt8] {
        dateCache.bytes()
    }

    /// Makes sure the deadline sweep runs no later than `deadline`.
    func noteDeadline(_ deadline: ContinuousClock.Instant?) {
        guard let deadline else { return }
        if let scheduledSweep, scheduledSweep <= deadline { return }
        scheduledSweep = max(deadline, .now + Self.sweepCoalescing)
    }

    /// A connection has closed its socket.
    func connectionClosed(_ connection: HTTPConnection) {
        connections[ObjectIdentifier(connection)] = nil
        server?.connectionClosed()
        reportDrainedIfDone()
    }

    /// Starts a graceful shutdown of this loop's connections: idle ones close now, busy ones
    /// after their current response, and whatever remains at the grace deadline is closed.
    /// Once none is left the loop tells the server and stops.
    func beginShutdown(gracePeriod: Duration) {
        let deadline = ContinuousClock.now + gracePeriod
        shutdownDeadline = deadline
        for connection in Array(connections.values) {
            connection.beginShutdown()
        }
        noteDeadline(deadline)
        reportDrainedIfDone()
    }

    private func reportDrainedIfDone() {
        guard shutdownDeadline != nil, connections.isEmpty, !hasReportedDrained else { return }
        hasReportedDrained = true
        server?.loopDrained()
        isStopping = true
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
        server = nil
        // A later thread may be given the same identifier; it must not pass for this loop.
        threadIdentifier.store(0, ordering: .relaxed)
    }

    /// How long the next wait may last: not past the next sweep or timer, and not at all
    /// while local work is waiting.
    private func waitTimeout() -> Int32 {
        guard localWork.isEmpty else { return 0 }
        var next = scheduledSweep
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
        if let scheduledSweep, now >= scheduledSweep {
            sweep(at: now)
        }
        guard timers.contains(where: { $0.deadline <= now }) else { return }
        let due = timers.filter { $0.deadline <= now }
        timers.removeAll { $0.deadline <= now }
        for timer in due { timer.work() }
    }

    /// Acts on every connection's passed deadline, then notes the next one.
    private func sweep(at now: ContinuousClock.Instant) {
        scheduledSweep = nil
        if let shutdownDeadline, now >= shutdownDeadline {
            for connection in Array(connections.values) {
                connection.close()
            }
        }
        var next: ContinuousClock.Instant? = nil
        for connection in Array(connections.values) {
            connection.handleDeadline(at: now)
            if let deadline = connection.deadline {
                next = min(next ?? deadline, deadline)
            }
        }
        if let shutdownDeadline, !connections.isEmpty {
            next = min(next ?? shutdownDeadline, shutdownDeadline)
        }
        noteDeadline(next)
    }
}
