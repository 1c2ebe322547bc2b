/// What turns a listener into HTTPS: the certificate chain and private key files (PEM) and
/// how long a client may take over the handshake.
///
/// The protocol versions (TLS 1.2 and 1.3 only), ciphers (OpenSSL's defaults) and ALPN
/// (`http/1.1` only) are fixed on purpose: there is nothing to tune that would not weaken the
/// connection or offer a protocol this server does not speak.
public struct TLSConfiguration: Sendable, Equatable {
    /// PEM file with the server's certificate first, then any intermediates
    /// (`SSL_CTX_use_certificate_chain_file(3)`).
    public var certificateChainFile: String
    /// PEM file with the certificate's private key, unencrypted.
    public var privateKeyFile: String
    /// Time from accept to the end of the handshake. A client that connects and sends
    /// nothing, or stalls part-way, is closed after it. The header timeout of the first
    /// request counts from the end of the handshake.
    public var handshakeTimeout: Duration

    public init(certificateChainFile: String, privateKeyFile: String, handshakeTimeout: Duration = .seconds(10)) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.handshakeTimeout = handshakeTimeout
    }
}
