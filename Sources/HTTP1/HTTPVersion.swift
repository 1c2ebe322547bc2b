/// The protocol version of a request (RFC 9110 §2.5). Only major version 1 is spoken here.
public struct HTTPVersion: Hashable, Sendable, CustomStringConvertible {
    /// The digit before the dot.
    public let major: Int
    /// The digit after the dot.
    public let minor: Int

    /// A version from its two digits.
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    /// Whether the peer speaks at least HTTP/1.1, where keep-alive is the default and Host
    /// is required (RFC 9112 §3.2, §9.3).
    public var isAtLeastHTTP1_1: Bool {
        major > 1 || (major == 1 && minor >= 1)
    }

    public var description: String {
        "HTTP/\(major).\(minor)"
    }
}
