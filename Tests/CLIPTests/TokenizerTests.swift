import Foundation
import Testing
@testable import CLIP

/// Where the tokenizer tests find their inputs: the fixtures written by
/// `tools/make_tokenizer_fixtures.py` and the real vocabulary.
enum TokenizerFixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tokenizer")

    /// `INCTRL_VOCAB` (set by `scripts/test`), else `.cache/` at the repository root, where
    /// `scripts/fetch-vocab` puts it.
    static let vocabularyURL: URL = {
        if let path = ProcessInfo.processInfo.environment["INCTRL_VOCAB"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".cache/bpe_simple_vocab_16e6.txt.gz")
    }()

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// One tokenizer for all tests, as a service would share it.
    static let tokenizer = Result { () throws(CLIPTokenizerError) in
        try CLIPTokenizer(vocabularyURL: vocabularyURL)
    }

    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        let name: String
        let text: String
        let mojibake: Bool
        let ids: [Int32]
        let tokens: [Int32]
        let idsWithoutRepair: [Int32]?
        let tokensWithoutRepair: [Int32]?

        var testDescription: String { name }

        enum CodingKeys: String, CodingKey {
            case name, text, mojibake, ids, tokens
            case idsWithoutRepair = "ids_without_repair"
            case tokensWithoutRepair = "tokens_without_repair"
        }
    }

    struct CaseFile: Decodable, Sendable {
        let contextLength: Int
        let cases: [Case]

        enum CodingKeys: String, CodingKey {
            case contextLength = "context_length"
            case cases
        }
    }

    static let caseFile = Result {
        try JSONDecoder().decode(CaseFile.self, from: Data(contentsOf: url("cases.json")))
    }

    static var allCases: [Case] { (try? caseFile.get())?.cases ?? [] }
    static var cases: [Case] { allCases.filter { !$0.mojibake } }
    static var mojibakeCases: [Case] { allCases.filter(\.mojibake) }
}

/// `CLIPTokenizer` against open_clip 3.3.0's `tokenize`, id for id.
@Suite struct TokenizerTests {
    let tokenizer: CLIPTokenizer

    init() throws {
        tokenizer = try TokenizerFixtures.tokenizer.get()
    }

    @Test func fixturesCoverWhatTheyClaim() throws {
        let file = try TokenizerFixtures.caseFile.get()
        #expect(file.contextLength == 77)
        #expect(TokenizerFixtures.cases.count >= 300)
        #expect(TokenizerFixtures.cases.contains { $0.ids.count > 75 }, "a text that truncates")
        #expect(TokenizerFixtures.cases.contains { $0.text.isEmpty })
        #expect(!TokenizerFixtures.mojibakeCases.isEmpty)
    }

    @Test(arguments: TokenizerFixtures.cases)
    func encodeMatchesOpenCLIP(_ fixture: TokenizerFixtures.Case) {
        #expect(tokenizer.encode(fixture.text) == fixture.ids)
    }

    @Test(arguments: TokenizerFixtures.cases)
    func tokenizeMatchesOpenCLIP(_ fixture: TokenizerFixtures.Case) {
        #expect(tokenizer.tokenize(fixture.text) == fixture.tokens)
    }

    /// Mojibake is not repaired (`TextCleaning.fixText`): the result is what open_clip gives
    /// with ftfy's `fix_encoding` switched off, which differs from its default.
    @Test(arguments: TokenizerFixtures.mojibakeCases)
    func mojibakeIsTokenizedAsWritten(_ fixture: TokenizerFixtures.Case) {
        #expect(tokenizer.encode(fixture.text) == fixture.idsWithoutRepair)
        #expect(tokenizer.tokenize(fixture.text) == fixture.tokensWithoutRepair)
        #expect(tokenizer.tokenize(fixture.text) != fixture.tokens)
    }

    @Test func sequencesAreWrappedAndPadded() {
        let ids = tokenizer.encode("a photo of a cat")
        let tokens = tokenizer.tokenize("a photo of a cat", contextLength: 10)
        #expect(tokens == [CLIPTokenizer.startOfText] + ids + [CLIPTokenizer.endOfText]
            + Array(repeating: 0, count: 10 - ids.count - 2))
    }

    @Test func truncationKeepsTheEndTokenLast() {
        let text = Array(repeating: "cat", count: 20).joined(separator: " ")
        let cat = tokenizer.encode("cat")
        #expect(cat.count == 1)
        #expect(tokenizer.tokenize(text, contextLength: 8) == [CLIPTokenizer.startOfText] + Array(repeating: cat[0], count: 6)
            + [CLIPTokenizer.endOfText])
        #expect(tokenizer.tokenize(text, contextLength: 2) == [CLIPTokenizer.startOfText, CLIPTokenizer.endOfText])
        #expect(tokenizer.tokenize(text, contextLength: 1) == [CLIPTokenizer.endOfText])
        #expect(tokenizer.tokenize(text, contextLength: 0).isEmpty)
        #expect(tokenizer.tokenize(text, contextLength: -3).isEmpty)
    }

    @Test func idsStayInsideTheVocabulary() {
        for fixture in TokenizerFixtures.allCases {
            #expect(tokenizer.encode(fixture.text).allSatisfy { (0..<Int32(CLIPTokenizer.vocabularySize)).contains($0) })
        }
    }

    /// Copies share one cache; many threads encoding at once must agree with one thread.
    @Test func concurrentUseGivesTheSameIDs() async throws {
        let fresh = try CLIPTokenizer(vocabularyURL: TokenizerFixtures.vocabularyURL)
        let cases = TokenizerFixtures.cases
        let results = await withTaskGroup(of: [[Int32]].self) { group in
            for worker in 0..<8 {
                group.addTask {
                    let rotated = Array(cases[(worker * 37 % cases.count)...] + cases[..<(worker * 37 % cases.count)])
                    return rotated.map { fresh.encode($0.text) }.sorted { $0.lexicographicallyPrecedes($1) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let expected = cases.map(\.ids).sorted { $0.lexicographicallyPrecedes($1) }
        for result in results {
            #expect(result == expected)
        }
        #expect(fresh.cachedWordCount > 0)
    }
}
