import Testing
@testable import HTTP1

/// Request ids: 32 lowercase hex digits, never repeated within a process.
struct HTTPRequestIDTests {
    @Test func idsAreHexAndDistinct() {
        let ids = (0..<10_000).map { _ in HTTPRequestID.fresh() }
        #expect(ids.allSatisfy { $0.utf8.count == 32 && $0.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) } })
        #expect(Set(ids).count == ids.count)
        // One process, one random half; the other half differs from one id to the next.
        #expect(Set(ids.map { $0.prefix(16) }).count == 1)
        #expect(Set(ids.map { $0.suffix(16) }).count == ids.count)
    }

    @Test func theMixIsABijectionOnTheValuesTried() {
        let values: [UInt64] = [0, 1, 2, 3, .max, .max - 1, 1 << 63, 0x0123_4567_89AB_CDEF]
        #expect(Set(values.map(HTTPRequestID.mixed)).count == values.count)
        #expect(HTTPRequestID.hex(0x0123_4567_89AB_CDEF) == "0123456789abcdef")
        #expect(HTTPRequestID.hex(0) == String(repeating: "0", count: 16))
    }
}
