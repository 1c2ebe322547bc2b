import Glibc

/// Accepts connections on the listening sockets and deals them out to the server's loops in
/// turn. Lives on the first loop's thread, whose epoll watches the listening sockets
/// (level-triggered: a backlog left for later is reported again). Pauses, leaving clients in
/// the kernel's backlog, while the server is at its connection limit or out of descriptors.
final class Acceptor: @unchecked Sendable {
    /// One listening socket's watch; tells the acceptor which socket is ready.
    private final class Listener: EventLoopIOHandler {
        unowned let acceptor: Acceptor
        let socket: ListeningSocket
        var registration: UInt64?

        init(acceptor: Acceptor, socket: ListeningSocket) {
            self.acceptor = acceptor
            self.socket = socket
        }

        func handleIO(_ events: IOEvents) {
            acceptor.acceptAll(from: socket.descriptor)
        }
    }

    private unowned let server: HTTPServer
    private let loops: [EventLoop]
    private let settings: ConnectionSettings
    private var listeners: [Listener] = []
    private var nextLoop = 0
    private var isPaused = false
    private var isClosed = false

    /// How long to wait before accepting again after running out of descriptors or memory.
    private static let resourceBackoff = Duration.milliseconds(100)

    /// An acceptor for `sockets` whose watches are registered with `loops[0]`, which must
    /// not have started yet.
    init(server: HTTPServer, sockets: [ListeningSocket], loops: [EventLoop], settings: ConnectionSettings) throws(SystemCallError) {
        self.server = server
        self.loops = loops
        self.settings = settings
        listeners = sockets.map { Listener(acceptor: self, socket: $0) }
        try watchListeners()
    }

    private var homeLoop: EventLoop { loops[0] }

    /// Resumes accepting if it was paused and the server is below its limit again. Callable
    /// from any thread.
    func resumeIfBelowLimit() {
        homeLoop.execute { [self] in
            guard isPaused, !isClosed, server.hasConnectionCapacity else { return }
            do {
                try watchListeners()
            } catch {
                // Out of kernel memory for the watch; try again, as after EMFILE.
                retryLater()
                return
            }
            isPaused = false
            server.acceptResumed()
        }
    }

    /// Stops accepting and closes the listening sockets, then runs `then` on the first
    /// loop's thread. Callable from any thread.
    func close(then: @escaping @Sendable () -> Void) {
        homeLoop.execute { [self] in
            closeNow()
            then()
        }
    }

    /// Closes the listening sockets at once; for a server whose loops never started.
    func closeNow() {
        guard !isClosed else { return }
        isClosed = true
        unwatchListeners()
        for listener in listeners {
            _ = Glibc.close(listener.socket.descriptor)
        }
    }

    private func acceptAll(from listener: Int32) {
        guard !isClosed, !isPaused else { return }
        while true {
            guard server.reserveConnection() else {
                pause()
                return
            }
            let socket = accept(listener, nil, nil)
            guard socket >= 0 else {
                let error = errno
                server.releaseReservation()
                switch error {
                case EINTR, ECONNABORTED:
                    continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    pause()
                    retryLater()
                    return
                default:
                    return
                }
            }
            // accept4 is not exported to Swift, so the flags are set in two more calls.
            _ = fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) | O_NONBLOCK)
            _ = fcntl(socket, F_SETFD, FD_CLOEXEC)
            // Responses are written whole; Nagle's delay would only add latency.
            SocketOptions.set(socket, Int32(IPPROTO_TCP), Int32(TCP_NODELAY), 1)
            let loop = loops[nextLoop]
            nextLoop = (nextLoop + 1) % loops.count
            let settings = settings
            if loop === homeLoop {
                loop.adopt(socket: socket, settings: settings)
            } else {
                loop.execute { loop.adopt(socket: socket, settings: settings) }
            }
        }
    }

    private func pause() {
        guard !isPaused else { return }
        isPaused = true
        unwatchListeners()
    }

    private func retryLater() {
        homeLoop.schedule(at: .now + Self.resourceBackoff) { [weak self] in self?.resumeIfBelowLimit() }
    }

    private func watchListeners() throws(SystemCallError) {
        for listener in listeners where listener.registration == nil {
            listener.registration = try homeLoop.register(listener.socket.descriptor, events: .readable, handler: listener)
        }
    }

    private func unwatchListeners() {
        for listener in listeners {
            guard let registration = listener.registration else { continue }
            homeLoop.unregister(registration, descriptor: listener.socket.descriptor)
            listener.registration = nil
        }
    }
}
