/// Why the server could not start.
public enum HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A configuration value is out of range; the message names it.
    case invalidConfiguration(String)
    /// The host name did not resolve to an address to listen on.
    case addressResolutionFailed(host: String, reason: String)
    /// A socket call failed (`operation` is socket, bind, listen…; `address` what it was for).
    case socketFailed(operation: String, address: String, reason: String)
    /// The event loops could not be set up (epoll, eventfd or a thread); `reason` names the
    /// system call and its error.
    case eventLoopFailed(reason: String)
    /// `start` was called on a server that had already started.
    case alreadyStarted
    /// The TLS certificate chain or key could not be loaded; the error names the file.
    case tlsSetupFailed(TLSError)

    public var description: String {
        switch self {
        case .invalidConfiguration(let message):
            "Invalid server configuration: \(message)"
        case .addressResolutionFailed(let host, let reason):
            "Cannot listen on host '\(host)': \(reason). Use an IP address or a resolvable name."
        case .socketFailed(let operation, let address, let reason):
            "Cannot \(operation) \(address): \(reason)."
        case .eventLoopFailed(let reason):
            "Cannot start the server's event loops: \(reason). Raise the limits on open files or threads, or lower eventLoopCount."
        case .alreadyStarted:
            "The server has already been started; create a new one to start again."
        case .tlsSetupFailed(let error):
            error.description
        }
    }
}
