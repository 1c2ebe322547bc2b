import Foundation
import Testing
@testable import CLIP

/// Loading `bpe_simple_vocab_16e6.txt.gz`: the real file's tables, and a typed error naming
/// the problem for every way a file can be wrong.
@Suite struct TokenizerVocabularyTests {
    static let realText: Result<[UInt8], GzipFailure> = Result { () throws(GzipFailure) in
        let compressed = (try? Data(contentsOf: TokenizerFixtures.vocabularyURL)).map { [UInt8]($0) } ?? []
        return try Gzip.decompress(compressed, limit: BPEVocabulary.decompressedSizeLimit)
    }

    @Test func realVocabularyHasEveryMerge() throws {
        let vocabulary = try BPEVocabulary(text: try Self.realText.get(), path: "real")
        #expect(vocabulary.merges.count == BPEVocabulary.mergeCount)
        #expect(Set(vocabulary.byteSymbols).count == 256)
        // The first merge line is "i n": rank 0, giving the first id after the byte symbols.
        let i = vocabulary.byteSymbols[Int(UInt8(ascii: "i"))], n = vocabulary.byteSymbols[Int(UInt8(ascii: "n"))]
        let first = vocabulary.merges[BPEVocabulary.pairKey(i, n)]
        #expect(first?.rank == 0)
        #expect(first?.result == 512)
        // bytes_to_unicode puts `!` first, so it is token 0 and `!</w>` is token 256.
        #expect(vocabulary.byteSymbols[Int(UInt8(ascii: "!"))] == 0)
        #expect(vocabulary.encodeWord(Array("!".utf8)) == [256])
    }

    @Test func byteSymbolsFollowBytesToUnicode() {
        #expect(BPEVocabulary.byteSymbolOrder.count == 256)
        #expect(Set(BPEVocabulary.byteSymbolOrder).count == 256)
        #expect(BPEVocabulary.byteCharacters[0x41] == "A")
        #expect(BPEVocabulary.byteCharacters[0x00] == "\u{0100}")
        #expect(BPEVocabulary.byteCharacters[0x20] == "\u{0120}")
        #expect(BPEVocabulary.byteCharacters[0xAD] == "\u{0143}")
    }

    @Test func missingFileIsNamed() {
        let path = "/nonexistent-\(UUID().uuidString)/bpe_simple_vocab_16e6.txt.gz"
        #expect(throws: CLIPTokenizerError.vocabularyNotFound(path: path)) {
            try CLIPTokenizer(vocabularyURL: URL(fileURLWithPath: path))
        }
    }

    @Test func directoryIsUnreadable() {
        let error = #expect(throws: CLIPTokenizerError.self) {
            try CLIPTokenizer(vocabularyURL: TokenizerFixtures.directory)
        }
        guard case .vocabularyUnreadable(let path, _) = error else {
            Issue.record("expected vocabularyUnreadable, got \(String(describing: error))")
            return
        }
        #expect(path == TokenizerFixtures.directory.path)
    }

    @Test func plainTextIsNotGzip() {
        let url = TokenizerFixtures.url("vocab-not-gzip.txt")
        #expect(throws: CLIPTokenizerError.vocabularyNotGzip(path: url.path)) {
            try CLIPTokenizer(vocabularyURL: url)
        }
    }

    @Test(arguments: ["vocab-bad-crc.txt.gz", "vocab-cut-short.txt.gz"])
    func corruptGzipIsReported(_ name: String) {
        let url = TokenizerFixtures.url(name)
        let error = #expect(throws: CLIPTokenizerError.self) {
            try CLIPTokenizer(vocabularyURL: url)
        }
        guard case .vocabularyCorrupt(let path, let reason) = error else {
            Issue.record("expected vocabularyCorrupt, got \(String(describing: error))")
            return
        }
        #expect(path == url.path)
        #expect(!reason.isEmpty)
        #expect(error?.description.contains("corrupt") == true)
    }

    @Test func truncatedVocabularyIsReported() {
        let url = TokenizerFixtures.url("vocab-truncated.txt.gz")
        #expect(throws: CLIPTokenizerError.vocabularyTruncated(path: url.path, mergesFound: 1000, mergesNeeded: 48_894)) {
            try CLIPTokenizer(vocabularyURL: url)
        }
    }

    @Test func malformedMergeLineIsNamed() throws {
        var lines = try Self.realText.get().split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        lines[9] = ArraySlice("a b c".utf8)
        let text = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
        #expect(throws: CLIPTokenizerError.vocabularyMalformedMerge(path: "edited", line: 10, content: "a b c")) {
            try BPEVocabulary(text: text, path: "edited")
        }
    }

    @Test func mergeOfUnknownSymbolIsNamed() throws {
        var lines = try Self.realText.get().split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        lines[4] = ArraySlice("nosuchsymbol x".utf8)
        let text = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
        #expect(throws: CLIPTokenizerError.vocabularyMalformedMerge(path: "edited", line: 5, content: "nosuchsymbol x")) {
            try BPEVocabulary(text: text, path: "edited")
        }
    }

    @Test func invalidUTF8IsReported() throws {
        var text = try Self.realText.get()
        text[100] = 0xFF
        #expect(throws: CLIPTokenizerError.vocabularyNotUTF8(path: "edited")) {
            try BPEVocabulary(text: text, path: "edited")
        }
    }

    @Test func decompressionStopsAtItsLimit() throws {
        let compressed = [UInt8](try Data(contentsOf: TokenizerFixtures.vocabularyURL))
        #expect(throws: GzipFailure.tooLarge) {
            try Gzip.decompress(compressed, limit: 100_000)
        }
    }

    @Test func errorsSayWhatToDo() {
        let error = CLIPTokenizerError.vocabularyTruncated(path: "/tmp/v.gz", mergesFound: 3, mergesNeeded: 48_894)
        #expect(error.description.contains("/tmp/v.gz"))
        #expect(error.description.contains("48894"))
        #expect(error.description.contains("scripts/fetch-vocab"))
    }
}
