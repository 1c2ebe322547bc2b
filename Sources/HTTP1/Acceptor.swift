import Glibc

/// Accepts connections on the listening sockets and deals them out to the server's loops in
/// turn. Lives on the first loop, which watches the listening sockets level-triggered (a
/// backlog left for later is reported again; a dispatch read source is so by nature).
///
/// At the server's connection limit it still accepts, but answers `503` with `Retry-After`
/// and closes at once, without making a connection object: a client learns the server is
/// full instead of waiting unseen in the kernel's backlog. Those refusals are bounded per
/// wake-up; past that the acceptor pauses briefly, so a flood of connections cannot keep the
/// first loop busy refusing. It also pauses while out of descriptors.
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
    /// Most connections refused (at the limit) in one wake-up before the acceptor pauses.
    private static let refusalsPerWakeup = 32
    /// How long the acceptor pauses after `refusalsPerWakeup` refusals: at most about 3 200
    /// refusals a second, each a few system calls.
    private static let refusalBackoff = Duration.milliseconds(10)

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

    /// Resumes accepting if it was paused. Callable from any thread.
    func resume() {
        homeLoop.execute { [self] in
            guard isPaused, !isClosed else { return }
            do {
                try watchListeners()
            } catch {
                // Out of kernel memory for the watch; try again, as after EMFILE.
                retryLater(after: Self.resourceBackoff)
                return
            }
            isPaused = false
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
        for listener in listeners {
            // The loop closes a watched socket once it no longer watches it.
            if let registration = listener.registration {
                homeLoop.unregister(registration, descriptor: listener.socket.descriptor, closing: true)
                listener.registration = nil
            } else {
                _ = Glibc.close(listener.socket.descriptor)
            }
        }
    }

    private func acceptAll(from listener: Int32) {
        guard !isClosed, !isPaused else { return }
        var refusalsLeft = Self.refusalsPerWakeup
        while true {
            let socket = accept(listener, nil, nil)
            guard socket >= 0 else {
                switch errno {
                case EINTR, ECONNABORTED:
                    continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    pause()
                    retryLater(after: Self.resourceBackoff)
                    return
                default:
                    return
                }
            }
            guard server.reserveConnection() else {
                refuse(socket)
                refusalsLeft -= 1
                if refusalsLeft == 0 {
                    pause()
                    retryLater(after: Self.refusalBackoff)
                    return
                }
                continue
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

    /// Answers a connection the server has no room for with `503 too_many_connections` and
    /// closes it, all without blocking: the answer fits in a fresh socket's send buffer, and
    /// what cannot be sent at once is dropped. Input that has already arrived is read first,
    /// since closing over unread input makes the kernel reset the connection, which can
    /// destroy the answer before the client reads it (RFC 9112 §9.6).
    private func refuse(_ socket: Int32) {
        var response = HTTPResponse.tooManyConnections
        if let header = settings.requestIDHeader {
            response.headers.set(name: header, value: HTTPRequestID.fresh())
        }
        var bytes: [UInt8] = []
        response.serialize(
            into: &bytes, context: .unreadableRequest, closesConnection: true,
            date: homeLoop.currentDate(), serverName: settings.serverName
        )
        _ = bytes.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        let scratch = homeLoop.readBuffer
        var reads = 0
        while reads < 4, recv(socket, scratch.baseAddress, scratch.count, Int32(MSG_DONTWAIT)) == scratch.count {
            reads += 1
        }
        _ = Glibc.close(socket)
    }

    private func pause() {
        guard !isPaused else { return }
        isPaused = true
        unwatchListeners()
    }

    private func retryLater(after delay: Duration) {
        homeLoop.schedule(at: .now + delay) { [weak self] in self?.resume() }
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
