/// How the server's event loops wait for I/O readiness, wake-ups and timers.
public enum IOBackend: String, Sendable, CaseIterable, CustomStringConvertible {
    /// One thread per loop waiting in `epoll_wait` on an epoll instance of its own, with
    /// edge-triggered registrations and an eventfd for wake-ups (`EpollBackend`).
    case epoll
    /// One serial dispatch queue per loop, with a `DispatchSource` read source and write
    /// source per descriptor and dispatch timers (`DispatchBackend`).
    case dispatch

    /// The backend a server uses unless configured otherwise: epoll, the faster of the two
    /// here (README "Speed" has the figures).
    public static let `default` = IOBackend.epoll

    /// The names the configuration accepts, for error messages: `epoll, dispatch`.
    public static var names: String {
        allCases.map(\.rawValue).joined(separator: ", ")
    }

    /// The backend named `name` (`epoll` or `dispatch`).
    public init(name: String) throws(HTTPServerError) {
        guard let backend = IOBackend(rawValue: name) else {
            throw .invalidConfiguration("ioBackend must be one of \(IOBackend.names), not '\(name)'")
        }
        self = backend
    }

    public var description: String { rawValue }
}
