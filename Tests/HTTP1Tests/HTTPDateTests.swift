import Testing
@testable import HTTP1

@Suite struct HTTPDateTests {
    @Test func formatsIMFFixdate() {
        // The example of RFC 9110 §5.6.7.
        #expect(HTTPDate.imfFixdate(secondsSinceEpoch: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.imfFixdate(secondsSinceEpoch: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.imfFixdate(secondsSinceEpoch: 1_709_251_199) == "Thu, 29 Feb 2024 23:59:59 GMT")
    }

    @Test func theCacheReformatsOnlyWhenTheSecondChanges() {
        var cache = HTTPDateCache()
        #expect(cache.bytes(forSecond: 784_111_777) == Array("Sun, 06 Nov 1994 08:49:37 GMT".utf8))
        #expect(cache.bytes(forSecond: 784_111_778) == Array("Sun, 06 Nov 1994 08:49:38 GMT".utf8))
    }
}
