import Testing
import HTTP1

/// JSON string literals escape exactly what RFC 8259 §7 requires, and nothing else.
@Suite struct JSONTextTests {
    @Test func escapesQuotesBackslashesAndControlCharacters() {
        #expect(JSONText.quoted("a\"b\\c\nd\re\tf\u{08}g\u{0C}h\u{01}i\u{1F}") == #""a\"b\\c\nd\re\tf\bg\fh\u0001i\u001f""#)
    }

    @Test func leavesEverythingElseAlone() {
        #expect(JSONText.quoted("é/😀 \u{7F}") == "\"é/😀 \u{7F}\"")
        #expect(JSONText.quoted("") == "\"\"")
    }
}
