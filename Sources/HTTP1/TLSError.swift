/// Why the server could not set up (or reload) TLS. Every case names the file at fault and
/// what to do about it.
public enum TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file cannot be opened (`reason` is the system's: missing, permission denied…).
    case unreadableFile(role: FileRole, path: String, reason: String)
    /// The certificate file does not hold a PEM certificate chain OpenSSL accepts.
    case invalidCertificateChain(path: String, reason: String)
    /// The key file does not hold a PEM private key OpenSSL accepts (an encrypted key is
    /// refused too: the server has no one to ask for a passphrase).
    case invalidPrivateKey(path: String, reason: String)
    /// The private key is not the one the leaf certificate was issued for.
    case keyDoesNotMatchCertificate(keyPath: String, certificatePath: String, reason: String)
    /// OpenSSL itself failed (memory, or a library built without TLS 1.2 or 1.3).
    case libraryFailure(operation: String, reason: String)
    /// `reloadTLS` was called on a server configured without TLS.
    case notConfigured

    /// Which of the two files a case is about.
    public enum FileRole: String, Sendable, Equatable {
        case certificateChain = "certificate chain"
        case privateKey = "private key"
    }

    public var description: String {
        switch self {
        case .unreadableFile(let role, let path, let reason):
            "Cannot read the TLS \(role.rawValue) file '\(path)': \(reason). Check the path and that the server's user may read it."
        case .invalidCertificateChain(let path, let reason):
            "The TLS certificate chain file '\(path)' is not usable: \(reason). It must hold PEM certificates, the server's own first, then its intermediates."
        case .invalidPrivateKey(let path, let reason):
            "The TLS private key file '\(path)' is not usable: \(reason). It must hold one unencrypted PEM private key."
        case .keyDoesNotMatchCertificate(let keyPath, let certificatePath, let reason):
            "The TLS private key '\(keyPath)' does not belong to the certificate in '\(certificatePath)': \(reason). Use the key the certificate was issued for."
        case .libraryFailure(let operation, let reason):
            "OpenSSL failed to \(operation): \(reason)."
        case .notConfigured:
            "The server was configured without TLS; set Configuration.tls to serve HTTPS."
        }
    }
}
