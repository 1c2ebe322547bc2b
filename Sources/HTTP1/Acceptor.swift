import Dispatch
import Glibc

/// Accepts connections on the listening sockets and hands them to the server's loops.
/// Confined to its queue. Pauses (leaving clients in the kernel's backlog) while the
/// server is at its connection limit or out of file descriptors.
final class Acceptor: @unchecked Sendable {
    private unowned let server: HTTPServer
    private let listeners: [ListeningSocket]
    private let queue: DispatchQueue
    private var sources: [any DispatchSourceRead] = []
    private var isPaused = false
    private var isClosed = false

    /// How long to wait before accepting again after running out of descriptors or memory.
    private static let resourceBackoff = DispatchTimeInterval.milliseconds(100)

    init(server: HTTPServer, listeners: [ListeningSocket], queue: DispatchQueue) {
        self.server = server
        self.listeners = listeners
        self.queue = queue
    }

    /// Starts watching the listening sockets.
    func start() {
        queue.async { [self] in
            for listener in listeners {
                let source = DispatchSource.makeReadSource(fileDescriptor: listener.descriptor, queue: queue)
                let descriptor = listener.descriptor
                source.setEventHandler { [weak self] in self?.acceptAll(from: descriptor) }
                source.setCancelHandler { _ = Glibc.close(descriptor) }
                source.resume()
                sources.append(source)
            }
        }
    }

    /// Resumes accepting if it was paused and the server is below its limit again.
    func resumeIfBelowLimit() {
        queue.async { [self] in
            guard isPaused, !isClosed, server.hasConnectionCapacity else { return }
            isPaused = false
            server.acceptResumed()
            for source in sources { source.resume() }
        }
    }

    /// Stops accepting and closes the listening sockets, then runs `then` on the queue.
    func close(then: @escaping @Sendable () -> Void) {
        queue.async { [self] in
            if !isClosed {
                isClosed = true
                for source in sources {
                    if isPaused { source.resume() }
                    source.cancel()
                }
                sources = []
            }
            then()
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
                    queue.asyncAfter(deadline: .now() + Self.resourceBackoff) { [weak self] in self?.resumeIfBelowLimit() }
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
            server.handOff(socket: socket)
        }
    }

    private func pause() {
        guard !isPaused else { return }
        isPaused = true
        for source in sources { source.suspend() }
    }
}
