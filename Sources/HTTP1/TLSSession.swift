import COpenSSL
import Glibc

/// One connection's TLS state: an `SSL` object reading and writing the connection's
/// non-blocking socket (`SSL_set_fd(3)`), driven by the connection's edge-triggered events.
///
/// Every call here returns at once. `SSL_ERROR_WANT_READ`/`WANT_WRITE` (`SSL_get_error(3)`)
/// become `.blocked`, and the connection calls again after that readiness edge; with
/// edge-triggered epoll it keeps reading until a read blocks, which also drains plaintext
/// OpenSSL holds buffered. Owned and used only on its connection's loop thread; the `SSL` is
/// freed exactly once, when the session is released.
final class TLSSession {
    /// How the handshake stands after a step.
    enum HandshakeStep: Equatable {
        case complete
        case blocked(until: ConnectionTransport.Readiness)
        /// The client left, or its bytes were not a TLS handshake this server accepts.
        case failed
    }

    private let ssl: OpaquePointer
    /// Whether `SSL_do_handshake` has succeeded.
    private(set) var isHandshakeComplete = false
    /// Whether the first byte has been looked at for a plain HTTP request.
    var hasCheckedFirstByte = false
    /// A fatal error occurred: `SSL_shutdown(3)` must not be called after one.
    private var hasFailed = false
    private var hasSentCloseNotify = false

    /// A server-side session over `socket` from `context` (an `SSL_CTX`, which the new `SSL`
    /// holds a reference to, so a reload cannot free it under this connection); nil if
    /// OpenSSL is out of memory.
    init?(context: OpaquePointer, socket: Int32) {
        OpenSSLErrorQueue.clear()
        guard let ssl = SSL_new(context) else {
            OpenSSLErrorQueue.clear()
            return nil
        }
        guard SSL_set_fd(ssl, socket) == 1 else {
            SSL_free(ssl)
            OpenSSLErrorQueue.clear()
            return nil
        }
        SSL_set_accept_state(ssl)
        self.ssl = ssl
    }

    deinit {
        SSL_free(ssl)
    }

    /// Whether `byte`, the first a client sent, starts a plain HTTP request rather than TLS.
    /// A TLS connection opens with a handshake record (content type 22, RFC 8446 §5.1) or,
    /// from very old clients, an SSLv2-format hello with the high bit set; an HTTP request
    /// opens with its method, a token that is letters in practice (RFC 9112 §3).
    static func startsPlainHTTP(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
    }

    /// Advances the handshake as far as the socket allows.
    func handshake() -> HandshakeStep {
        guard !isHandshakeComplete else { return .complete }
        OpenSSLErrorQueue.clear()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            isHandshakeComplete = true
            return .complete
        }
        switch classify(result) {
        case .blocked(let readiness): return .blocked(until: readiness)
        case .transferred, .closed: return .failed
        }
    }

    /// Decrypts what has arrived into `buffer` (`SSL_read_ex(3)`).
    func read(into buffer: UnsafeMutableRawBufferPointer) -> ConnectionTransport.Outcome {
        OpenSSLErrorQueue.clear()
        var count = 0
        if SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &count) == 1 {
            return .transferred(count)
        }
        return classify(0)
    }

    /// Encrypts and sends as much of `bytes` as the socket takes (`SSL_write_ex(3)`). The
    /// context enables partial writes and a moving write buffer: after `.blocked`, the call
    /// is repeated with the same bytes at the front, possibly at a new address and with
    /// more behind them, as `SSL_write(3)` requires.
    func write(_ bytes: UnsafeRawBufferPointer) -> ConnectionTransport.Outcome {
        OpenSSLErrorQueue.clear()
        var count = 0
        if SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &count) == 1 {
            return .transferred(count)
        }
        return classify(0)
    }

    /// Sends `close_notify` (RFC 8446 §6.1) if the session is in a state to: best effort
    /// and without waiting for the peer's, as the connection closes or half-closes next.
    func sendCloseNotify() {
        guard isHandshakeComplete, !hasFailed, !hasSentCloseNotify else { return }
        hasSentCloseNotify = true
        OpenSSLErrorQueue.clear()
        _ = SSL_shutdown(ssl)
        OpenSSLErrorQueue.clear()
    }

    /// The `SSL_get_error(3)` meaning of a failed call's `result`.
    private func classify(_ result: Int32) -> ConnectionTransport.Outcome {
        let error = SSL_get_error(ssl, result)
        switch error {
        case SSL_ERROR_WANT_READ:
            return .blocked(until: .readable)
        case SSL_ERROR_WANT_WRITE:
            return .blocked(until: .writable)
        case SSL_ERROR_ZERO_RETURN:
            // The peer sent close_notify: an orderly end of the stream.
            return .closed
        default:
            // SSL_ERROR_SYSCALL (reset, or EOF without close_notify) or SSL_ERROR_SSL (a
            // protocol error): the session is dead, and shutting it down is not allowed.
            hasFailed = true
            OpenSSLErrorQueue.clear()
            return .closed
        }
    }
}
