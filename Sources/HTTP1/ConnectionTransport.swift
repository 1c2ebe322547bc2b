import Glibc

/// How a connection moves bytes over its socket: plainly, or through its TLS session.
///
/// An enum rather than a protocol, so the plain path is a direct `recv`/`send` with no
/// indirection, and the connection's read and write paths stay one piece of code for both.
enum ConnectionTransport {
    /// Readiness the transport waits for before the same call can make progress.
    enum Readiness: Equatable {
        case readable
        case writable
    }

    /// What one read or write achieved.
    enum Outcome: Equatable {
        /// This many bytes moved (always more than zero).
        case transferred(Int)
        /// Nothing moved; retry after the socket reports this readiness. TLS may need the
        /// opposite direction: a read can have to write (a TLS 1.3 key update's answer), a
        /// write can have to read.
        case blocked(until: Readiness)
        /// The stream is over: the peer closed it, reset it, or broke the protocol.
        case closed
    }

    case plain
    case tls(TLSSession)

    /// Whether a read that returns less than it asked for proves the socket drained. True
    /// for `recv` on a stream socket; false for TLS, whose reads stop at a record's end
    /// while more records, or buffered plaintext (`SSL_pending(3)`), may wait.
    var shortReadMeansDrained: Bool {
        if case .plain = self { return true }
        return false
    }

    /// Reads what is available into `buffer`.
    func receive(from socket: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Outcome {
        switch self {
        case .plain:
            while true {
                let count = recv(socket, buffer.baseAddress, buffer.count, 0)
                if count > 0 { return .transferred(count) }
                if count == 0 { return .closed }
                let error = errno
                if error == EINTR { continue }
                return error == EAGAIN || error == EWOULDBLOCK ? .blocked(until: .readable) : .closed
            }
        case .tls(let session):
            return session.read(into: buffer)
        }
    }

    /// Writes as much of `bytes` as the socket takes.
    func send(to socket: Int32, _ bytes: UnsafeRawBufferPointer) -> Outcome {
        switch self {
        case .plain:
            while true {
                let count = Glibc.send(socket, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
                if count > 0 { return .transferred(count) }
                // Only an empty write returns 0; the connection never makes one.
                if count == 0 { return .blocked(until: .writable) }
                let error = errno
                if error == EINTR { continue }
                return error == EAGAIN || error == EWOULDBLOCK ? .blocked(until: .writable) : .closed
            }
        case .tls(let session):
            return session.write(bytes)
        }
    }
}
