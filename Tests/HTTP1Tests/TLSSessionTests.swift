import Testing
@testable import HTTP1

@Suite struct TLSSessionTests {
    @Test func aRequestLineIsToldApartFromATLSRecord() {
        for method in ["GET", "POST", "HEAD", "PUT", "OPTIONS", "delete", "PRI"] {
            #expect(TLSSession.startsPlainHTTP(method.utf8.first!), "\(method)")
        }
        // A TLS handshake record, an SSLv2-format hello, and bytes that are neither.
        for byte: UInt8 in [0x16, 0x80, 0x15, 0x00, UInt8(ascii: " "), UInt8(ascii: "0")] {
            #expect(!TLSSession.startsPlainHTTP(byte), "\(byte)")
        }
    }
}
