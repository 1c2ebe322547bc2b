import COpenSSL
import Glibc
import Synchronization

/// The server's TLS settings as OpenSSL holds them: an `SSL_CTX` with the certificate chain
/// and key loaded, from which each accepted connection gets its `TLSSession`.
///
/// `reload` builds a whole new `SSL_CTX` from the files and swaps it in under the lock, so a
/// renewed certificate reaches new connections without dropping open ones: each `SSL` holds
/// its own reference to the context it was made from (`SSL_new(3)`), and the old context is
/// freed when the last of them is.
final class TLSContext: Sendable {
    /// An `SSL_CTX` pointer. OpenSSL makes `SSL_CTX` safe to share between threads once
    /// set up; this class only swaps it and makes sessions from it under its lock.
    private struct Handle: @unchecked Sendable {
        let context: OpaquePointer
    }

    /// The files the context is built from, read again on every reload.
    let configuration: TLSConfiguration
    private let current: Mutex<Handle>

    /// Reads the certificate chain and key, checking that they belong together.
    init(configuration: TLSConfiguration) throws(TLSError) {
        self.configuration = configuration
        current = Mutex(try Self.makeContext(configuration))
    }

    deinit {
        current.withLock { SSL_CTX_free($0.context) }
    }

    /// Builds a new context from the files and makes it the one new connections get. On
    /// error the current context stays in use.
    func reload() throws(TLSError) {
        let fresh = try Self.makeContext(configuration)
        let old = current.withLock { handle in
            let old = handle
            handle = fresh
            return old
        }
        SSL_CTX_free(old.context)
    }

    /// A session for an accepted socket; nil if OpenSSL is out of memory.
    func makeSession(socket: Int32) -> TLSSession? {
        current.withLock { TLSSession(context: $0.context, socket: socket) }
    }

    // MARK: - Building a context

    private static func makeContext(_ configuration: TLSConfiguration) throws(TLSError) -> Handle {
        let certificatePath = configuration.certificateChainFile
        let keyPath = configuration.privateKeyFile
        // OpenSSL's own message for a missing file is "system lib"; open(2)'s says which
        // problem it is.
        try requireReadable(certificatePath, role: .certificateChain)
        try requireReadable(keyPath, role: .privateKey)

        OpenSSLErrorQueue.clear()
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw .libraryFailure(operation: "create a TLS context", reason: OpenSSLErrorQueue.drain())
        }
        var isBuilt = false
        defer { if !isBuilt { SSL_CTX_free(context) } }

        // TLS 1.2 and 1.3 only (RFC 8996 deprecates 1.0 and 1.1); ciphers and groups stay
        // OpenSSL's defaults, which exclude the weak ones.
        guard copenssl_ctx_set_protocol_range(context, copenssl_tls1_2_version, copenssl_tls1_3_version) == 1 else {
            throw .libraryFailure(operation: "limit the protocol to TLS 1.2 and 1.3", reason: OpenSSLErrorQueue.drain())
        }
        // Renegotiation (TLS 1.2) lets a client make the server redo expensive handshakes
        // on one connection; nothing here needs it.
        copenssl_ctx_disable_renegotiation(context)
        copenssl_ctx_set_server_modes(context)
        // A key or certificate with a passphrase must fail, not wait for one on a terminal.
        SSL_CTX_set_default_passwd_cb(context, refusePassphrase)
        SSL_CTX_set_alpn_select_cb(context, selectHTTP11, nil)

        guard SSL_CTX_use_certificate_chain_file(context, certificatePath) == 1 else {
            throw .invalidCertificateChain(path: certificatePath, reason: OpenSSLErrorQueue.drain())
        }
        let key = try readPrivateKey(keyPath)
        defer { EVP_PKEY_free(key) }
        // Loading a key checks it against a certificate of its type; the final check also
        // catches a key of another type than the certificate's (SSL_CTX_check_private_key(3)).
        guard SSL_CTX_use_PrivateKey(context, key) == 1, SSL_CTX_check_private_key(context) == 1 else {
            throw .keyDoesNotMatchCertificate(keyPath: keyPath, certificatePath: certificatePath, reason: OpenSSLErrorQueue.drain())
        }
        isBuilt = true
        return Handle(context: context)
    }

    private static func requireReadable(_ path: String, role: TLSError.FileRole) throws(TLSError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .unreadableFile(role: role, path: path, reason: SystemError.lastMessage())
        }
        Glibc.close(descriptor)
    }

    /// Parses the key apart from loading it, so a file that is not a key is told apart from
    /// a key that does not match.
    private static func readPrivateKey(_ path: String) throws(TLSError) -> OpaquePointer {
        guard let file = BIO_new_file(path, "r") else {
            throw .unreadableFile(role: .privateKey, path: path, reason: OpenSSLErrorQueue.drain())
        }
        defer { BIO_free(file) }
        guard let key = PEM_read_bio_PrivateKey(file, nil, refusePassphrase, nil) else {
            let detail = OpenSSLErrorQueue.drain()
            throw .invalidPrivateKey(path: path, reason: explainUnreadableKey(path, openSSLDetail: detail))
        }
        return key
    }

    /// Why a key file did not parse, in the terms of its content where OpenSSL's decoder
    /// only says "unsupported": no PEM block at all, or a key encrypted with a passphrase.
    private static func explainUnreadableKey(_ path: String, openSSLDetail: String) -> String {
        guard let file = fopen(path, "r") else { return openSSLDetail }
        defer { fclose(file) }
        var head = [UInt8](repeating: 0, count: 64 * 1024)
        let count = fread(&head, 1, head.count, file)
        let text = String(decoding: head[..<count], as: UTF8.self)
        if !text.contains("-----BEGIN ") {
            return "it holds no PEM block (-----BEGIN …-----)"
        }
        if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") || text.contains("Proc-Type: 4,ENCRYPTED") {
            return "the key is encrypted with a passphrase (decrypt it with `openssl pkey -in KEY -out PLAIN`)"
        }
        return openSSLDetail
    }
}

/// `pem_password_cb` that offers no passphrase (`SSL_CTX_set_default_passwd_cb(3)`).
private func refusePassphrase(
    _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int32, _ isWriting: Int32, _ argument: UnsafeMutableRawPointer?
) -> Int32 {
    -1
}

/// The ALPN choice (RFC 7301 §3.2): `http/1.1` if the client offers it; otherwise the
/// handshake fails with `no_application_protocol`, since the client wants a protocol this
/// server does not speak. A client that offers no ALPN is not asked.
private func selectHTTP11(
    _ ssl: OpaquePointer?, _ selected: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
    _ selectedLength: UnsafeMutablePointer<UInt8>?, _ offered: UnsafePointer<UInt8>?, _ offeredLength: UInt32,
    _ argument: UnsafeMutableRawPointer?
) -> Int32 {
    guard let offered, let selected, let selectedLength else { return SSL_TLSEXT_ERR_ALERT_FATAL }
    let wanted: [UInt8] = Array("http/1.1".utf8)
    // The offer is a list of names, each preceded by its length in one byte.
    let list = UnsafeBufferPointer(start: offered, count: Int(offeredLength))
    var index = 0
    while index < list.count {
        let length = Int(list[index])
        let start = index + 1
        guard start + length <= list.count else { break }
        if length == wanted.count && list[start..<start + length].elementsEqual(wanted) {
            selected.pointee = offered + start
            selectedLength.pointee = UInt8(length)
            return SSL_TLSEXT_ERR_OK
        }
        index = start + length
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL
}
