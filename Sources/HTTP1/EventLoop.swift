import Dispatch

/// A serial queue that owns a set of connections. Everything about those connections is
/// touched only on this queue, so they need no locks. The loop also keeps the one timer that
/// enforces all their deadlines, and the scratch buffer they read into.
final class EventLoop: @unchecked Sendable {
    /// The queue all of this loop's work runs on.
    let queue: DispatchQueue
    /// Scratch space a connection reads into before handing the bytes to its parser.
    let readBuffer: UnsafeMutableRawBufferPointer

    private var server: HTTPServer?
    private var connections: [ObjectIdentifier: HTTPConnection] = [:]
    private var dateCache = HTTPDateCache()
    private let timer: DispatchSourceTimer
    private var scheduledDeadline: ContinuousClock.Instant?
    private var shutdownDeadline: ContinuousClock.Instant?
    private var hasReportedDrained = false

    /// Deadlines closer together than this are handled in one sweep, so a burst of
    /// connections with staggered deadlines costs a few sweeps rather than one each.
    private static let timerCoalescing = Duration.milliseconds(5)

    /// A loop with its own queue.
    init(label: String) {
        queue = DispatchQueue(label: label)
        readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        timer = DispatchSource.makeTimerSource(queue: queue)
        timer.setEventHandler { [weak self] in self?.sweep() }
        timer.schedule(deadline: .distantFuture)
        timer.resume()
    }

    deinit {
        timer.cancel()
        readBuffer.deallocate()
    }

    /// Attaches the loop to the server it reports to; called on `queue` before any connection.
    func attach(to server: HTTPServer) {
        self.server = server
    }

    /// Takes over an accepted socket.
    func adopt(socket: Int32, settings: ConnectionSettings) {
        let connection = HTTPConnection(socket: socket, loop: self, settings: settings, acceptedAt: .now)
        connections[ObjectIdentifier(connection)] = connection
        connection.start()
    }

    /// The current `Date` header value.
    func currentDate() -> [UInt8] {
        dateCache.bytes()
    }

    /// Makes sure the timer fires no later than `deadline`.
    func noteDeadline(_ deadline: ContinuousClock.Instant?) {
        guard let deadline else { return }
        if let scheduledDeadline, scheduledDeadline <= deadline { return }
        schedule(at: deadline)
    }

    /// A connection has closed its socket.
    func connectionClosed(_ connection: HTTPConnection) {
        connections[ObjectIdentifier(connection)] = nil
        server?.connectionClosed()
        reportDrainedIfDone()
    }

    /// Starts a graceful shutdown of this loop's connections: idle ones close now, busy ones
    /// after their current response, and whatever remains at the grace deadline is closed.
    func beginShutdown(gracePeriod: Duration) {
        let deadline = ContinuousClock.now + gracePeriod
        shutdownDeadline = deadline
        for connection in Array(connections.values) {
            connection.beginShutdown()
        }
        noteDeadline(deadline)
        reportDrainedIfDone()
    }

    private func schedule(at deadline: ContinuousClock.Instant) {
        let now = ContinuousClock.now
        let target = max(deadline, now + Self.timerCoalescing)
        scheduledDeadline = target
        let delay = now.duration(to: target)
        let (seconds, attoseconds) = delay.components
        let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        timer.schedule(deadline: .now() + .nanoseconds(nanoseconds), leeway: .milliseconds(1))
    }

    /// Runs every connection's expired deadline, then re-arms the timer for the next one.
    private func sweep() {
        scheduledDeadline = nil
        let now = ContinuousClock.now
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
        if let next { schedule(at: next) }
    }

    private func reportDrainedIfDone() {
        guard shutdownDeadline != nil, connections.isEmpty, !hasReportedDrained else { return }
        hasReportedDrained = true
        server?.loopDrained()
        server = nil
    }
}
