import HTTP1

extension ServiceConfiguration {
    /// The HTTP server's configuration: the listening address, limits and timeouts of this
    /// configuration, the only place the service's settings become the server's.
    public var httpServer: HTTPServer.Configuration {
        var http = HTTPServer.Configuration()
        http.host = host
        http.port = port
        http.maxConnections = maxConnections
        http.maxHeaderBytes = maxHeaderBytes
        http.maxBodyBytes = maxBodyBytes
        http.maxInflightBodyBytes = maxInflightBodyBytes
        http.headerTimeout = headerTimeout
        http.bodyTimeout = bodyTimeout
        http.idleTimeout = idleTimeout
        http.writeTimeout = writeTimeout
        http.shutdownGracePeriod = shutdownGrace
        http.overloadRefusalDelay = .milliseconds(refusalDelayMilliseconds)
        http.ioBackend = ioBackend
        http.serverName = "inctrl-serve"
        if !tlsCertificateFile.isEmpty, !tlsKeyFile.isEmpty {
            http.tls = TLSConfiguration(
                certificateChainFile: tlsCertificateFile, privateKeyFile: tlsKeyFile, handshakeTimeout: tlsHandshakeTimeout)
        }
        return http
    }
}
