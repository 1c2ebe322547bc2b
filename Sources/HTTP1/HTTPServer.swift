import Dispatch
import Glibc
import Synchronization

/// A hand-written HTTP/1.1 server (RFC 9112) on non-blocking POSIX sockets, with a few event
/// loops, each on a thread of its own waiting on epoll or on a serial dispatch queue
/// (`Configuration.ioBackend`).
///
/// ```swift
/// var router = HTTPRouter()
/// router.get("/healthz") { _ in HTTPResponse(contentType: "text/plain", body: "ok") }
/// let server = HTTPServer(configuration: configuration, handler: router.handler)
/// try server.start()
/// server.shutdownOnSignals()       // SIGTERM / SIGINT → graceful shutdown
/// await server.waitUntilStopped()
/// ```
///
/// It enforces the limits and timeouts of its `Configuration`, answers malformed requests
/// itself (JSON error body, then close), keeps connections alive, answers pipelined
/// requests in order, and shuts down gracefully. With `Configuration.tls` it speaks HTTPS
/// (TLS 1.2 and 1.3, through OpenSSL) on the same event loops.
///
/// A renewed certificate is taken up with `reloadTLS`. The server installs no handler for
/// it, since a process usually reloads more than one thing on the same signal; wire it
/// where the other reloads are:
///
/// ```swift
/// signal(SIGHUP, SIG_IGN)
/// let reload = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
/// reload.setEventHandler {
///     do { try server.reloadTLS() } catch { log("certificate kept: \(error)") }
/// }
/// reload.resume()
/// ```
public final class HTTPServer: Sendable {
    private struct State: ~Copyable {
        enum Phase {
            case created
            case running
            case shuttingDown
            case stopped
        }

        var phase = Phase.created
        var loops: [EventLoop] = []
        var acceptor: Acceptor?
        var addresses: [SocketAddress] = []
        var drainedLoops = 0
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
        var signalSources: [(number: Int32, source: any DispatchSourceSignal)] = []
        var tlsContext: TLSContext?
    }

    /// The configuration the server was created with.
    public let configuration: Configuration

    private let settings: ConnectionSettings
    private let state = Mutex(State())
    private let openConnections = Atomic<Int>(0)

    /// A server that answers every request with `handler`. A request that announces a body is
    /// first put to `headCheck`, which may refuse it before the body is read (see
    /// `HTTPHeadCheck`); `immediateHandler`, if any, may answer a request at once instead of
    /// `handler` (see `HTTPImmediateHandler`). Nothing happens until `start`.
    public init(
        configuration: Configuration = Configuration(), headCheck: HTTPHeadCheck? = nil,
        immediateHandler: HTTPImmediateHandler? = nil, handler: @escaping HTTPHandler
    ) {
        self.configuration = configuration
        settings = ConnectionSettings(
            configuration: configuration, headCheck: headCheck, immediateHandler: immediateHandler, handler: handler)
    }

    /// A server that answers through `router` (404, 405 and OPTIONS included). Those answers
    /// are given from the head, before a body is read; `headCheck`, if any, is asked next.
    public convenience init(configuration: Configuration = Configuration(), headCheck: HTTPHeadCheck? = nil, router: HTTPRouter) {
        let routerCheck = router.headCheck
        let combined: HTTPHeadCheck = { head in routerCheck(head) ?? headCheck?(head) }
        self.init(configuration: configuration, headCheck: combined, handler: router.handler)
    }

    /// The addresses the server listens on, once started.
    public var addresses: [SocketAddress] {
        state.withLock { $0.addresses }
    }

    /// The port the server listens on (the kernel's choice when configured with 0), once started.
    public var port: Int? {
        addresses.first?.port
    }

    /// Binds, listens and starts accepting. Returns once the server is listening.
    public func start() throws(HTTPServerError) {
        try configuration.validate()
        try state.withLock { (state: inout State) throws(HTTPServerError) in
            guard state.phase == .created else { throw .alreadyStarted }
            state.phase = .running
        }
        // A write to a socket the client has closed must fail with EPIPE, not kill the process
        // (OpenSSL writes to the socket with plain write(2), which raises SIGPIPE).
        signal(SIGPIPE, SIG_IGN)
        do {
            var settings = settings
            settings.tls = try makeTLSContext()
            let listeners = try ListeningSocket.bindAll(host: configuration.host, port: configuration.port, backlog: configuration.backlog)
            let (loops, acceptor) = try startLoops(listeningOn: listeners, settings: settings)
            state.withLock { state in
                state.loops = loops
                state.acceptor = acceptor
                state.addresses = listeners.map(\.address)
                state.tlsContext = settings.tls
            }
        } catch {
            state.withLock { $0.phase = .created }
            throw error
        }
    }

    /// The TLS context the configuration asks for, its files read and checked.
    private func makeTLSContext() throws(HTTPServerError) -> TLSContext? {
        guard let tls = configuration.tls else { return nil }
        do throws(TLSError) {
            return try TLSContext(configuration: tls)
        } catch {
            throw .tlsSetupFailed(error)
        }
    }

    /// Creates the event loops, has the first watch `listeners`, and starts their threads;
    /// on failure closes the listening sockets and stops whatever had started.
    private func startLoops(
        listeningOn listeners: [ListeningSocket], settings: ConnectionSettings
    ) throws(HTTPServerError) -> ([EventLoop], Acceptor) {
        let loops: [EventLoop]
        let acceptor: Acceptor
        do throws(SystemCallError) {
            loops = try (0..<configuration.eventLoopCount).map { (_: Int) throws(SystemCallError) in try EventLoop(backend: configuration.ioBackend) }
            for loop in loops { loop.attach(to: self) }
            acceptor = try Acceptor(server: self, sockets: listeners, loops: loops, settings: settings)
        } catch {
            for listener in listeners { close(listener.descriptor) }
            throw .eventLoopFailed(reason: error.description)
        }
        // The first loop, which accepts, starts last: no connection is handed to a loop
        // whose thread failed to start.
        var started: [EventLoop] = []
        do throws(SystemCallError) {
            for loop in loops.reversed() {
                try loop.start()
                started.append(loop)
            }
        } catch {
            acceptor.closeNow()
            for loop in started { loop.stop() }
            throw .eventLoopFailed(reason: error.description)
        }
        return (loops, acceptor)
    }

    /// Reads the TLS certificate chain and key files again and serves new connections with
    /// them; connections already open keep the certificate they started with. On error
    /// (the error names the file) the server keeps serving with what it had. Before `start`,
    /// it only checks the files. Callable from any thread, for example a SIGHUP handler.
    public func reloadTLS() throws(TLSError) {
        guard let tls = configuration.tls else { throw .notConfigured }
        if let context = state.withLock({ $0.tlsContext }) {
            try context.reload()
        } else {
            _ = try TLSContext(configuration: tls)
        }
    }

    /// Connections open right now.
    public var openConnectionCount: Int {
        openConnections.load(ordering: .relaxed)
    }

    /// Request-body bytes reserved right now against `maxInflightBodyBytes`: bodies being
    /// received, and bodies whose handlers have not returned yet.
    public var inflightBodyBytes: Int {
        settings.bodyBudget.reservedBytes
    }

    /// True from the moment a graceful shutdown begins: requests still being handled (or
    /// whose bodies were still arriving) may finish, but no new work should start.
    public var isShuttingDown: Bool {
        state.withLock { state in
            switch state.phase {
            case .shuttingDown, .stopped: true
            case .created, .running: false
            }
        }
    }

    /// Starts the server and returns once it has shut down.
    public func run() async throws(HTTPServerError) {
        try start()
        await waitUntilStopped()
    }

    /// Shuts down gracefully: stops accepting, closes idle connections, lets requests in
    /// progress finish (their responses carry `Connection: close`), and after `gracePeriod`
    /// (default: the configuration's) closes whatever remains, cancelling its handlers.
    /// Returns once every connection is closed.
    public func shutdown(gracePeriod: Duration? = nil) async {
        let grace = gracePeriod ?? configuration.shutdownGracePeriod
        let (acceptor, loops, stoppedAtOnce) = state.withLock { state -> (Acceptor?, [EventLoop], Bool) in
            switch state.phase {
            case .created:
                state.phase = .stopped
                return (nil, [], true)
            case .running:
                state.phase = .shuttingDown
                return (state.acceptor, state.loops, false)
            case .shuttingDown, .stopped:
                return (nil, [], false)
            }
        }
        if stoppedAtOnce { resumeStopWaiters() }
        if let acceptor {
            acceptor.close {
                for loop in loops {
                    loop.execute { loop.beginShutdown(gracePeriod: grace) }
                }
            }
        }
        await waitUntilStopped()
    }

    /// Returns once the server has shut down.
    public func waitUntilStopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isStopped = state.withLock { state in
                if state.phase == .stopped { return true }
                state.stopWaiters.append(continuation)
                return false
            }
            if isStopped { continuation.resume() }
        }
    }

    /// Installs handlers that start a graceful shutdown when one of `signals` arrives. The
    /// signals' default action (terminating the process) is turned off until the server has
    /// stopped, so the process exits when the caller returns after `waitUntilStopped` or `run`.
    public func shutdownOnSignals(_ signals: [Int32] = [SIGTERM, SIGINT], gracePeriod: Duration? = nil) {
        state.withLock { state in
            for number in signals {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { [weak self] in
                    guard let self else { return }
                    Task { await self.shutdown(gracePeriod: gracePeriod) }
                }
                source.resume()
                state.signalSources.append((number, source))
            }
        }
    }

    // MARK: - Bookkeeping for the acceptor and the loops

    /// Counts a connection just accepted, or says the limit is reached (the acceptor then
    /// refuses it).
    func reserveConnection() -> Bool {
        // Only the acceptor increments, so checking then adding cannot overshoot.
        guard openConnections.load(ordering: .sequentiallyConsistent) < configuration.maxConnections else { return false }
        openConnections.add(1, ordering: .sequentiallyConsistent)
        return true
    }

    /// A connection closed (on its loop's thread).
    func connectionClosed() {
        openConnections.subtract(1, ordering: .sequentiallyConsistent)
    }

    /// A loop closed its last connection during shutdown.
    func loopDrained() {
        let isStopped = state.withLock { state in
            state.drainedLoops += 1
            guard state.drainedLoops == state.loops.count else { return false }
            state.phase = .stopped
            state.acceptor = nil
            state.loops = []
            // Give the signals their default action back: a stopped server no longer answers them.
            for (number, source) in state.signalSources {
                source.cancel()
                signal(number, SIG_DFL)
            }
            state.signalSources = []
            return true
        }
        if isStopped { resumeStopWaiters() }
    }

    private func resumeStopWaiters() {
        let waiters = state.withLock { state in
            let waiters = state.stopWaiters
            state.stopWaiters = []
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
