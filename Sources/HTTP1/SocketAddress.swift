import Glibc

/// An IPv4 or IPv6 address and port, in numeric form.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address family.
    public enum Family: Sendable, Hashable {
        case ipv4
        case ipv6
    }

    /// The address family.
    public let family: Family
    /// The numeric host (`127.0.0.1`, `::1`).
    public let host: String
    /// The port.
    public let port: Int

    /// `127.0.0.1:8080` or `[::1]:8080`: written once, when the address is made, since a
    /// connection's address is shown in every one of its requests' access-log lines.
    public let description: String

    /// An address from its parts.
    public init(family: Family, host: String, port: Int) {
        self.family = family
        self.host = host
        self.port = port
        description = Self.text(family: family, host: host, port: port)
    }

    /// `host:port`, with an IPv6 host in brackets.
    static func text(family: Family, host: String, port: Int) -> String {
        family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The address a `sockaddr` holds, or nil for families other than IPv4 and IPv6.
    init?(_ address: UnsafePointer<sockaddr>) {
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            let ipv4 = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in.self)
            guard let host = Self.numericHost(family: AF_INET, ipv4.sin_addr) else { return nil }
            self.init(family: .ipv4, host: host, port: Int(UInt16(bigEndian: ipv4.sin_port)))
        case AF_INET6:
            let ipv6 = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in6.self)
            guard let host = Self.numericHost(family: AF_INET6, ipv6.sin6_addr) else { return nil }
            self.init(family: .ipv6, host: host, port: Int(UInt16(bigEndian: ipv6.sin6_port)))
        default:
            return nil
        }
    }

    /// The local address a socket is bound to.
    static func local(of socket: Int32) -> SocketAddress? {
        query(socket, getsockname)
    }

    /// The address of a connected socket's peer.
    static func peer(of socket: Int32) -> SocketAddress? {
        query(socket, getpeername)
    }

    private static func query(
        _ socket: Int32, _ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                call(socket, address, &length) == 0 ? SocketAddress(address) : nil
            }
        }
    }

    private static func numericHost<Address>(family: Int32, _ address: Address) -> String? {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let converted = withUnsafeBytes(of: address) { raw in
            inet_ntop(family, raw.baseAddress, &text, socklen_t(text.count)) != nil
        }
        guard converted else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
