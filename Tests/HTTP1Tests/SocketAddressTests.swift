import Glibc
import Testing
@testable import HTTP1

/// An address's text, written once when it is made, is `host:port` (brackets around an IPv6
/// host), however the address was made.
struct SocketAddressTests {
    @Test func theTextIsHostAndPort() {
        #expect(SocketAddress(family: .ipv4, host: "127.0.0.1", port: 8080).description == "127.0.0.1:8080")
        #expect(SocketAddress(family: .ipv6, host: "::1", port: 443).description == "[::1]:443")
        #expect("\(SocketAddress(family: .ipv4, host: "10.0.0.2", port: 0))" == "10.0.0.2:0")
    }

    @Test func anAddressReadFromASocketHasTheSameText() throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(54_321).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let read = try #require(withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress($0) }
        })
        #expect(read.host == "127.0.0.1" && read.port == 54_321)
        #expect(read.description == SocketAddress.text(family: .ipv4, host: read.host, port: read.port))
        #expect(read.description == "127.0.0.1:54321")
        #expect(read == SocketAddress(family: .ipv4, host: "127.0.0.1", port: 54_321))
    }
}
