/// What an `EventLoop` delegates to its I/O backend: running work on the loop, readiness
/// of registered descriptors, timers, and the loop's own deadline sweep. `EventLoop` keeps
/// everything else (its connections, the sweep's bookkeeping, the `Date` cache, shutdown).
///
/// Two implementations: `EpollBackend` (a thread waiting on epoll) and `DispatchBackend`
/// (a serial dispatch queue with dispatch sources). Either way, every handler, work item and
/// timer of one loop runs one at a time, so what the loop owns needs no locks.
///
/// Methods without a note run on the loop, or before `start`.
protocol EventLoopBackend: AnyObject, Sendable {
    /// Whether registrations follow the interest `setInterest` states. False for the epoll
    /// backend, whose edge-triggered registrations report every change once and cost nothing
    /// while nothing changes; true for the dispatch backend, whose sources report readiness
    /// for as long as it lasts and must be suspended while the handler does not want it.
    var followsInterest: Bool { get }

    /// Starts running the loop; `sweep` runs on the loop whenever the deadline set with
    /// `setSweepDeadline` passes. Called once, from any thread.
    func start(sweep: @escaping () -> Void) throws(SystemCallError)

    /// Whether the caller runs on this loop. Callable from any thread.
    var isOnLoop: Bool { get }

    /// Runs `work` on the loop soon, after the events being handled now. Callable from any
    /// thread; work handed over after the loop has stopped is dropped.
    func execute(_ work: @escaping @Sendable () -> Void)

    /// Runs `work` on the loop once `deadline` has passed.
    func schedule(at deadline: ContinuousClock.Instant, _ work: @escaping () -> Void)

    /// Runs the sweep at `deadline` (replacing the deadline set before), or never if nil.
    func setSweepDeadline(_ deadline: ContinuousClock.Instant?)

    /// Starts reporting `events` on `descriptor` to `handler`; returns the token the other
    /// registration methods take. With `.edgeTriggered`, each change is reported once.
    func register(_ descriptor: Int32, events: IOEvents, handler: any EventLoopIOHandler) throws(SystemCallError) -> UInt64

    /// The readiness the handler of `token` waits for now (`.readable`, `.writable`);
    /// only asked of a backend that `followsInterest`.
    func setInterest(_ token: UInt64, _ events: IOEvents)

    /// Stops reporting events on `descriptor`; its handler hears nothing more, even if the
    /// number is reused at once. With `closing`, closes the descriptor too, once the backend
    /// no longer watches it (a descriptor number closed while still watched could be reused
    /// by a new connection before the watch is gone).
    func unregister(_ token: UInt64, descriptor: Int32, closing: Bool)

    /// Stops the loop after the events being handled now: no more events, work or timers
    /// run. Callable from any thread.
    func stop()
}
