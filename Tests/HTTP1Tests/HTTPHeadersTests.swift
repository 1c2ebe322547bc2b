import Testing
@testable import HTTP1

@Suite struct HTTPHeadersTests {
    @Test func lookupIgnoresCaseAndKeepsOrder() {
        var headers: HTTPHeaders = ["Accept": "a", "X-Tag": "1"]
        headers.add(name: "x-tag", value: "2")
        #expect(headers["ACCEPT"] == "a")
        #expect(headers["x-TAG"] == "1")
        #expect(headers.values(for: "X-Tag") == ["1", "2"])
        #expect(headers.map(\.name) == ["Accept", "X-Tag", "x-tag"])
        #expect(headers.contains("accept"))
        #expect(!headers.contains("Accept-Encoding"))
    }

    @Test func setReplacesEveryFieldOfTheName() {
        var headers: HTTPHeaders = ["A": "1", "B": "2", "a": "3"]
        headers.set(name: "a", value: "new")
        #expect(headers.map(\.value) == ["new", "2"])
        headers.set(name: "C", value: "appended")
        #expect(headers["c"] == "appended")
        headers.remove(name: "B")
        #expect(headers.count == 2)
    }

    @Test func valuesKeepTheirOctets() {
        let octets: [UInt8] = [0x61, 0x80, 0xC3, 0xA9, 0xFF, 0xC3, 0x28]
        var headers = HTTPHeaders()
        headers.add(name: "X-Opaque", valueBytes: octets)
        #expect(headers.valueBytes(for: "x-opaque") == octets)
        // Read as text, what is not UTF-8 shows as U+FFFD; the octets stay as they were.
        #expect(headers["X-Opaque"] == "a\u{FFFD}é\u{FFFD}\u{FFFD}(")
        #expect(headers.valueBytes(for: "X-Opaque") == octets)
        headers.set(name: "X-Text", value: "café")
        #expect(headers.valueBytes(for: "X-Text") == Array("café".utf8))
        #expect(headers.valueBytes(for: "X-Missing") == nil)
    }

    @Test func caseFoldingIsASCIIOnly() {
        #expect("Content-Length".equalsIgnoringASCIICase("content-length"))
        #expect(!"Straße".equalsIgnoringASCIICase("STRASSE"))
        #expect(!"abc".equalsIgnoringASCIICase("abcd"))
    }

    /// The comparison through contiguous storage agrees with folding each pair of bytes, for
    /// short (inline) and long strings, ASCII and not.
    @Test func caseFoldingAgreesWithBytewiseFolding() {
        func reference(_ lhs: String, _ rhs: String) -> Bool {
            Array(lhs.utf8).map(HTTPSyntax.lowercased) == Array(rhs.utf8).map(HTTPSyntax.lowercased)
        }
        let words = [
            "", "a", "A", "Content-Length", "content-length", "CONTENT-LENGTH", "Content-Lengti", "X-Request-ID",
            "Content-Type", "x-request-id", "Straße", "STRAßE", "straße", "é", "É", "@", "`", "[", "{",
            "A-Very-Long-Header-Name-That-Lives-On-The-Heap", "a-very-long-header-name-that-lives-on-the-heap",
            "a-very-long-header-name-that-lives-on-the-heaq",
        ]
        for lhs in words {
            for rhs in words {
                #expect(lhs.equalsIgnoringASCIICase(rhs) == reference(lhs, rhs), "\(lhs) vs \(rhs)")
            }
        }
    }
}
