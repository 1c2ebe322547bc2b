import Dispatch
import Glibc
import Synchronization

/// The dispatch backend: the loop is one serial `DispatchQueue`. Each registered descriptor
/// has a read source and a write source on that queue, resumed while its handler wants that
/// readiness and suspended otherwise; work from any thread is `async` on the queue; timers
/// and the sweep are dispatch timer sources on it. Every handler therefore runs on the queue,
/// one at a time, whichever of dispatch's worker threads carries it.
///
/// Dispatch sources report readiness for as long as it lasts (a read source fires again
/// while unread input is waiting, a write source while the socket takes output), not once
/// per change as the epoll backend's edge-triggered registrations do; so the backend
/// `followsInterest`, and a handler states what it waits for through `setInterest`.
final class DispatchBackend: EventLoopBackend, @unchecked Sendable {
    /// One descriptor's sources, and whether each is resumed (a dispatch source counts its
    /// suspensions, so each state change is made once).
    private final class Registration {
        let descriptor: Int32
        let handler: any EventLoopIOHandler
        let read: any DispatchSourceRead
        let write: any DispatchSourceWrite
        var isReadResumed = false
        var isWriteResumed = false
        /// Cancel handlers still to run before the descriptor is no longer watched.
        var cancelsPending = 2
        var closesOnCancel = false

        init(descriptor: Int32, handler: any EventLoopIOHandler, read: any DispatchSourceRead, write: any DispatchSourceWrite) {
            self.descriptor = descriptor
            self.handler = handler
            self.read = read
            self.write = write
        }
    }

    private let queue: DispatchQueue
    private let isActivated = Atomic<Bool>(false)
    private let isStopped = Atomic<Bool>(false)
    private var registrations: [UInt64: Registration] = [:]
    private var nextToken: UInt64 = 1
    private var timers: [UInt64: any DispatchSourceTimer] = [:]
    private var nextTimer: UInt64 = 0
    private var sweepTimer: (any DispatchSourceTimer)?
    private var sweep: (() -> Void)?

    /// This backend's mark on its queue, unique in the process.
    private let identity: UInt

    /// Marks the loop's queue, so `isOnLoop` can tell it from any other.
    private static let queueKey = DispatchSpecificKey<UInt>()
    private static let lastIdentity = Atomic<UInt>(0)

    /// A backend whose queue does not run anything until `start`.
    init() {
        identity = Self.lastIdentity.add(1, ordering: .relaxed).newValue
        queue = DispatchQueue(label: "http1.event-loop", attributes: .initiallyInactive)
        queue.setSpecific(key: Self.queueKey, value: identity)
    }

    deinit {
        // An inactive queue must not be released; one that never started has nothing to run.
        if !isActivated.load(ordering: .relaxed) { queue.activate() }
    }

    var followsInterest: Bool { true }

    func start(sweep: @escaping () -> Void) throws(SystemCallError) {
        self.sweep = sweep
        isActivated.store(true, ordering: .relaxed)
        queue.activate()
    }

    var isOnLoop: Bool {
        DispatchQueue.getSpecific(key: Self.queueKey) == identity
    }

    func execute(_ work: @escaping @Sendable () -> Void) {
        guard !isStopped.load(ordering: .relaxed) else { return }
        queue.async { [self] in
            guard !isStopped.load(ordering: .relaxed) else { return }
            work()
        }
    }

    func schedule(at deadline: ContinuousClock.Instant, _ work: @escaping () -> Void) {
        guard !isStopped.load(ordering: .relaxed) else { return }
        let timer = DispatchSource.makeTimerSource(queue: queue)
        let key = nextTimer
        nextTimer += 1
        timer.setEventHandler { [weak self] in
            guard let self, let timer = timers.removeValue(forKey: key) else { return }
            timer.cancel()
            guard !isStopped.load(ordering: .relaxed) else { return }
            work()
        }
        timer.schedule(deadline: Self.dispatchTime(at: deadline), leeway: .milliseconds(1))
        timers[key] = timer
        timer.resume()
    }

    func setSweepDeadline(_ deadline: ContinuousClock.Instant?) {
        guard !isStopped.load(ordering: .relaxed) else { return }
        let timer: any DispatchSourceTimer
        if let sweepTimer {
            timer = sweepTimer
        } else {
            timer = DispatchSource.makeTimerSource(queue: queue)
            timer.setEventHandler { [weak self] in
                guard let self, !isStopped.load(ordering: .relaxed) else { return }
                sweep?()
            }
            sweepTimer = timer
            timer.schedule(deadline: .distantFuture)
            timer.resume()
        }
        // Rescheduling a timer replaces its deadline; a one-shot timer fires once.
        timer.schedule(deadline: deadline.map(Self.dispatchTime(at:)) ?? .distantFuture, leeway: .milliseconds(1))
    }

    /// Stops after the work queued before: as on the epoll backend, work handed over before
    /// `stop` still runs.
    func stop() {
        queue.async { [self] in
            guard !isStopped.exchange(true, ordering: .relaxed) else { return }
            sweepTimer?.cancel()
            sweepTimer = nil
            for timer in timers.values { timer.cancel() }
            timers = [:]
            sweep = nil
            // A read source left resumed on unread input would fire again and again.
            for (token, registration) in registrations {
                unregister(token, descriptor: registration.descriptor, closing: false)
            }
        }
        if !isActivated.load(ordering: .relaxed) {
            isActivated.store(true, ordering: .relaxed)
            queue.activate()
        }
    }

    /// The dispatch time `deadline` corresponds to (both clocks are monotonic; only the
    /// distance from now is carried over).
    private static func dispatchTime(at deadline: ContinuousClock.Instant) -> DispatchTime {
        let remaining = ContinuousClock.now.duration(to: deadline)
        guard remaining > .zero else { return .now() }
        let (seconds, attoseconds) = remaining.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanoseconds.overflow else { return .distantFuture }
        return .now() + .nanoseconds(Int(clamping: nanoseconds.partialValue + attoseconds / 1_000_000_000))
    }

    // MARK: - Registration

    /// Registers a read and a write source. A registration asked for `.readable` starts with
    /// its read source resumed, one asked for `.writable` with its write source resumed;
    /// `.edgeTriggered`, `.peerClosed` and the rest are left to the handler's interest (a
    /// read source also fires at the end of the stream, which a read then reports).
    func register(_ descriptor: Int32, events: IOEvents, handler: any EventLoopIOHandler) throws(SystemCallError) -> UInt64 {
        let token = nextToken
        nextToken += 1
        let read = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: queue)
        let write = DispatchSource.makeWriteSource(fileDescriptor: descriptor, queue: queue)
        let registration = Registration(descriptor: descriptor, handler: handler, read: read, write: write)
        read.setEventHandler { [weak self] in self?.report(.readable, to: token) }
        write.setEventHandler { [weak self] in self?.report(.writable, to: token) }
        // The cancel handlers keep the registration until both have run: only then has
        // dispatch let go of the descriptor, and only then may it be closed.
        let cancelled: () -> Void = {
            registration.cancelsPending -= 1
            if registration.cancelsPending == 0 && registration.closesOnCancel {
                Glibc.close(registration.descriptor)
            }
        }
        read.setCancelHandler(handler: cancelled)
        write.setCancelHandler(handler: cancelled)
        registrations[token] = registration
        setInterest(token, events.intersection([.readable, .writable]))
        return token
    }

    private func report(_ events: IOEvents, to token: UInt64) {
        guard !isStopped.load(ordering: .relaxed), let registration = registrations[token] else { return }
        registration.handler.handleIO(events)
    }

    func setInterest(_ token: UInt64, _ events: IOEvents) {
        guard let registration = registrations[token] else { return }
        let wantsRead = events.contains(.readable)
        if wantsRead != registration.isReadResumed {
            registration.isReadResumed = wantsRead
            if wantsRead { registration.read.resume() } else { registration.read.suspend() }
        }
        let wantsWrite = events.contains(.writable)
        if wantsWrite != registration.isWriteResumed {
            registration.isWriteResumed = wantsWrite
            if wantsWrite { registration.write.resume() } else { registration.write.suspend() }
        }
    }

    /// Cancels both sources; a suspended (or never resumed) source is resumed first, since
    /// dispatch runs no cancel handler, and may not release a source, while it is suspended.
    func unregister(_ token: UInt64, descriptor: Int32, closing: Bool) {
        guard let registration = registrations.removeValue(forKey: token) else {
            if closing { Glibc.close(descriptor) }
            return
        }
        registration.closesOnCancel = closing
        registration.read.cancel()
        registration.write.cancel()
        if !registration.isReadResumed { registration.read.resume() }
        if !registration.isWriteResumed { registration.write.resume() }
        registration.isReadResumed = true
        registration.isWriteResumed = true
    }
}
