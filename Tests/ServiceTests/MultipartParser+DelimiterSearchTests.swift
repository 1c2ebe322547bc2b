import Testing
@testable import Service

/// The delimiter search agrees with the obvious one everywhere.
@Suite struct DelimiterSearchTests {
    /// Every index where `pattern` occurs in `bytes`, found the slow, obvious way.
    func naiveIndices(of pattern: [UInt8], in bytes: [UInt8]) -> [Int] {
        guard bytes.count >= pattern.count else { return [] }
        return (0...(bytes.count - pattern.count)).filter { Array(bytes[$0..<($0 + pattern.count)]) == pattern }
    }

    func searchIndices(of pattern: [UInt8], in bytes: [UInt8]) -> [Int] {
        let search = DelimiterSearch(pattern: pattern)
        var indices: [Int] = []
        var from = 0
        while let index = search.firstIndex(in: bytes, from: from) {
            indices.append(index)
            from = index + 1
        }
        return indices
    }

    @Test func agreesWithNaiveSearchOnRandomInput() {
        var generator = SplitMix64(seed: 7)
        for round in 0..<500 {
            let alphabet = Array("ab\r\n-".utf8).prefix(2 + round % 4)
            let patternLength = 1 + Int(generator.next() % 6)
            let pattern = (0..<patternLength).map { _ in alphabet.randomElement(using: &generator)! }
            let bytes = (0..<Int(generator.next() % 200)).map { _ in alphabet.randomElement(using: &generator)! }
            #expect(searchIndices(of: pattern, in: bytes) == naiveIndices(of: pattern, in: bytes), "round \(round)")
        }
    }

    @Test func handlesEdges() {
        let search = DelimiterSearch(pattern: Array("\r\n--b".utf8))
        #expect(search.firstIndex(in: [], from: 0) == nil)
        #expect(search.firstIndex(in: Array("\r\n--".utf8), from: 0) == nil)
        #expect(search.firstIndex(in: Array("\r\n--b".utf8), from: 0) == 0)
        #expect(search.firstIndex(in: Array("\r\n--b".utf8), from: 1) == nil)
        #expect(search.firstIndex(in: Array("x\r\n--b".utf8), from: 0) == 1)
        #expect(search.firstIndex(in: Array("\r\n--b\r\n--b".utf8), from: 1) == 5)
        #expect(search.firstIndex(in: Array("abc".utf8), from: 10) == nil)
    }
}
