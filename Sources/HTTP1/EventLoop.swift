import CEpoll
import Glibc
import Synchronization

/// Something an event loop reports readiness to.
protocol EventLoopIOHandler: AnyObject {
    /// The kernel reported `events` on the handler's descriptor. Runs on the loop's thread.
    func handleIO(_ events: IOEvents)
}

/// One event loop: it owns a set of connections, and everything about them is touched only
/// on this loop (one handler at a time), so they need no locks. Other threads hand it work
/// through `execute`. It also enforces all its connections' deadlines with one sweep, keeps
/// the scratch buffer they read into, and formats the `Date` header once a second for them.
///
/// How it waits is its backend's business (`EventLoopBackend`): a thread on epoll
/// (`EpollBackend`) or a serial dispatch queue with dispatch sources (`DispatchBackend`).
///
/// Methods without a note run on the loop, or before `start`.
final class EventLoop: @unchecked Sendable {
    /// Scratch space a connection reads into before handing the bytes to its parser.
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Whether connections must tell the loop which readiness they wait for
    /// (`setInterest`); see `EventLoopBackend.followsInterest`.
    let followsInterest: Bool

    private let backend: any EventLoopBackend
    private var server: HTTPServer?
    private var connections: [ObjectIdentifier: HTTPConnection] = [:]
    // Read or changed on every request, only on this loop and never across a call that could
    // come back here: exempt from run-time exclusivity checks, as `HTTPConnection`'s state is.
    @exclusivity(unchecked) private var dateCache = HTTPDateCache()
    @exclusivity(unchecked) private var scheduledSweep: ContinuousClock.Instant?
    private var shutdownDeadline: ContinuousClock.Instant?
    private var hasReportedDrained = false

    /// Deadlines closer together than this are handled in one sweep, so a burst of
    /// connections with staggered deadlines costs a few sweeps rather than one each.
    private static let sweepCoalescing = Duration.milliseconds(5)

    /// A loop on the given backend, not yet running.
    init(backend kind: IOBackend) throws(SystemCallError) {
        switch kind {
        case .epoll: backend = try EpollBackend()
        case .dispatch: backend = DispatchBackend()
        }
        followsInterest = backend.followsInterest
        readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    }

    deinit {
        readBuffer.deallocate()
    }

    /// Attaches the loop to the server it reports to; called before `start`.
    func attach(to server: HTTPServer) {
        self.server = server
    }

    /// Starts the loop. Called once, from any thread.
    func start() throws(SystemCallError) {
        // The backend keeps the loop until it stops.
        try backend.start { [self] in sweep(at: .now) }
    }

    /// Whether the caller runs on this loop (its thread, or its queue). Callable from any
    /// thread.
    var isOnLoop: Bool {
        backend.isOnLoop
    }

    /// Runs `work` on the loop soon, after the events being handled now. Callable from any
    /// thread; work handed over after the loop has stopped is dropped.
    func execute(_ work: @escaping @Sendable () -> Void) {
        backend.execute(work)
    }

    /// Runs `work` on the loop once `deadline` has passed.
    func schedule(at deadline: ContinuousClock.Instant, _ work: @escaping () -> Void) {
        backend.schedule(at: deadline, work)
    }

    /// Stops the loop after the events being handled now, without waiting for its
    /// connections; for a server that failed to start. Callable from any thread.
    func stop() {
        backend.stop()
    }

    // MARK: - Registration

    /// Starts reporting `events` on `descriptor` to `handler`; returns the token that
    /// `unregister` takes.
    func register(_ descriptor: Int32, events: IOEvents, handler: any EventLoopIOHandler) throws(SystemCallError) -> UInt64 {
        try backend.register(descriptor, events: events, handler: handler)
    }

    /// The readiness the handler of `token` waits for now; only needed when the loop
    /// `followsInterest`.
    func setInterest(_ token: UInt64, _ events: IOEvents) {
        backend.setInterest(token, events)
    }

    /// Stops reporting events on `descriptor`, and with `closing` closes it once the backend
    /// no longer watches it. Events already pending for it are dropped, so its handler hears
    /// nothing more even if the number is reused at once.
    func unregister(_ token: UInt64, descriptor: Int32, closing: Bool = false) {
        backend.unregister(token, descriptor: descriptor, closing: closing)
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
        let sweepAt = max(deadline, .now + Self.sweepCoalescing)
        scheduledSweep = sweepAt
        backend.setSweepDeadline(sweepAt)
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
        server = nil
        backend.stop()
    }

    // MARK: - Deadlines

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
