import Foundation
import Testing
@testable import CLIP

/// The steps of `TextCleaning` on their own, against what Python and ftfy give (values
/// taken from `html.unescape`, `ftfy.fix_text` and `str.lower` in Python 3.11 / ftfy 6.3.1).
@Suite struct TextCleaningTests {
    func scalars(_ text: String) -> [Unicode.Scalar] { Array(text.unicodeScalars) }

    @Test func uppercaseEntityNamesMatchFTFY() throws {
        let data = try Data(contentsOf: TokenizerFixtures.url("ftfy-uppercase-entities.json"))
        let expected = try JSONDecoder().decode([String: [UInt32]].self, from: data)
        let derived = TextCleaning.uppercaseEntityVariants.mapValues { $0.map(\.value) }
        #expect(derived.count == expected.count)
        #expect(derived == expected)
    }

    @Test(arguments: [
        ("&ampx", "&x"), ("&notit;", "\u{00AC}it;"), ("&#65abc;", "Aabc;"), ("&#x110000;", "\u{FFFD}"),
        ("&#0;", "\u{FFFD}"), ("&#150;", "\u{2013}"), ("&abc", "&abc"), ("&", "&"), ("a&#;b", "a&#;b"),
        ("&#1;x", "x"), ("&#xFFFE;", ""), ("&Kappa;", "\u{039A}"), ("&\u{212A}appa;", "&\u{212A}appa;"),
    ])
    func htmlUnescapeFollowsPython(_ input: String, _ expected: String) {
        #expect(TextCleaning.htmlUnescape(scalars(input)) == scalars(expected))
    }

    @Test(arguments: [
        ("&ampx", "&ampx"), ("&notit;", "&notit;"), ("&#65abc;", "&#65abc;"), ("&#x110000;", "\u{FFFD}"),
        ("&Kappa;", "\u{039A}"), ("P&EACUTE;REZ", "P\u{00C9}REZ"), ("&SZLIG;", "SS"), ("&nTILDE;", "&nTILDE;"),
        ("this&not that", "this&not that"), ("&amp;lt;", "&lt;"),
    ])
    func ftfyDecodesOnlyUnambiguousEntities(_ input: String, _ expected: String) {
        #expect(TextCleaning.decodingFTFYEntities(scalars(input)) == scalars(expected))
    }

    @Test func aLineWithATagStopsEntityDecodingFromThereOn() {
        let fixed = TextCleaning.fixText(scalars("one &amp;lt;\ntwo <x> &amp;lt;\nthree &amp;lt;"))
        #expect(fixed == scalars("one <\ntwo <x> &amp;lt;\nthree &amp;lt;"))
    }

    @Test func lineBreaksAndTerminalEscapes() {
        #expect(TextCleaning.fixText(scalars("\u{1B}[31mred\u{1B}[0m\r\nx\ry\u{2028}z")) == scalars("red\nx\ny\nz"))
    }

    @Test func startersFoundationLeavesApartCompose() {
        #expect(TextCleaning.canonicallyComposed(scalars("\u{AC00}\u{11A8}")) == scalars("\u{AC01}"))
        #expect(TextCleaning.canonicallyComposed(scalars("\u{1100}\u{1161}\u{11A8}")) == scalars("\u{AC01}"))
        #expect(TextCleaning.canonicallyComposed(scalars("\u{AC01}\u{11A8}")) == scalars("\u{AC01}\u{11A8}"))
        #expect(TextCleaning.canonicallyComposed(scalars("\u{0CCA}\u{0CD5}")) == scalars("\u{0CCB}"))
        #expect(TextCleaning.canonicallyComposed(scalars("e\u{301}")) == scalars("\u{E9}"))
    }

    @Test func capitalSigmaEndingAWordIsFinal() {
        let lowered = TextCleaning.lowercased(scalars("ΑΣ ΑΣ. Σ ΑΣΑ Α\u{301}Σ"))
        #expect(lowered == scalars("ας ας. σ ασα α\u{301}ς"))
    }

    @Test func whitespaceCollapsesLikePythonSplit() {
        let text = scalars(" \u{1C}a\t\u{A0} b\u{3000}\u{200B}c \n")
        #expect(TextCleaning.collapsingWhitespace(text) == scalars("a b \u{200B}c"))
    }
}
