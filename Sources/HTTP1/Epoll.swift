import CEpoll
import Glibc

/// Readiness of a descriptor, as epoll reports it (and as a registration asks for it).
struct IOEvents: OptionSet, Sendable {
    let rawValue: UInt32

    /// Input is waiting (or end of stream, or an error, which a read reports).
    static let readable = IOEvents(rawValue: EPOLLIN.rawValue)
    /// The descriptor accepts more output.
    static let writable = IOEvents(rawValue: EPOLLOUT.rawValue)
    /// The peer shut down its sending side (or closed the connection).
    static let peerClosed = IOEvents(rawValue: EPOLLRDHUP.rawValue)
    /// Both directions are shut down; reported whether asked for or not.
    static let hangUp = IOEvents(rawValue: EPOLLHUP.rawValue)
    /// An error is pending on the descriptor; reported whether asked for or not.
    static let error = IOEvents(rawValue: EPOLLERR.rawValue)
    /// Report each change of readiness once, rather than for as long as it lasts.
    static let edgeTriggered = IOEvents(rawValue: EPOLLET.rawValue)
}

/// A system call that failed, with the `errno` it left.
struct SystemCallError: Error, CustomStringConvertible {
    /// The call, as a reader of `man` pages would look it up (`epoll_create1`).
    let call: String
    /// The `errno` value.
    let code: Int32

    /// The failed call and its `errno`, captured right after the call.
    static func last(_ call: String) -> SystemCallError {
        SystemCallError(call: call, code: errno)
    }

    var description: String {
        "\(call): \(SystemError.message(for: code))"
    }
}

/// An epoll instance: the descriptors one event loop waits on, each registered with a token
/// that comes back with its events.
struct Epoll: ~Copyable {
    /// The epoll instance's own descriptor.
    let descriptor: Int32

    /// A new, empty epoll instance.
    init() throws(SystemCallError) {
        descriptor = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard descriptor >= 0 else { throw .last("epoll_create1") }
    }

    deinit {
        close(descriptor)
    }

    /// Starts watching `watched` for `events`; its events will carry `token`.
    func add(_ watched: Int32, events: IOEvents, token: UInt64) throws(SystemCallError) {
        var event = epoll_event()
        event.events = events.rawValue
        event.data.u64 = token
        guard epoll_ctl(descriptor, EPOLL_CTL_ADD, watched, &event) == 0 else { throw .last("epoll_ctl(ADD)") }
    }

    /// Stops watching `watched`. Closing a descriptor also stops the watch, but only once no
    /// duplicate of it is left; removing it first makes that certain.
    func remove(_ watched: Int32) {
        _ = epoll_ctl(descriptor, EPOLL_CTL_DEL, watched, nil)
    }

    /// Waits up to `timeoutMilliseconds` (-1: without limit) for events, and stores them in
    /// `events`; returns how many it stored (0 on timeout or when a signal interrupted it).
    func wait(into events: UnsafeMutableBufferPointer<epoll_event>, timeoutMilliseconds: Int32) -> Int {
        let count = epoll_wait(descriptor, events.baseAddress, Int32(events.count), timeoutMilliseconds)
        return max(0, Int(count))
    }
}
