import Testing
@testable import Service

/// The configuration file's JSON reader takes RFC 8259 exactly and says where a file breaks it.
@Suite struct ConfigurationJSONReaderTests {
    func parse(_ text: String) throws(ConfigurationJSONError) -> ConfigurationFileValue {
        try ConfigurationJSONReader.parse(Array(text.utf8))
    }

    @Test func readsEveryKindOfValue() throws {
        let value = try parse(#" { "a": [1, -2, 0, 3.5, -0.25e1, 1E+2, 9223372036854775807, 9223372036854775808], "b": {"c": null}, "d": true, "e": false, "f": "x" } "#)
        #expect(value == .object([
            "a": .array([.integer(1), .integer(-2), .integer(0), .number(3.5), .number(-2.5), .number(100),
                         .integer(Int.max), .number(9223372036854775808)]),
            "b": .object(["c": .null]), "d": .bool(true), "e": .bool(false), "f": .string("x"),
        ]))
        #expect(try parse("[]") == .array([]))
        #expect(try parse("{}") == .object([:]))
    }

    @Test func decodesStringEscapes() throws {
        #expect(try parse(#""q\" b\\ s\/ \b\f\n\r\t""#) == .string("q\" b\\ s/ \u{08}\u{0C}\n\r\t"))
        #expect(try parse(#""\u00e9\u4E2D\ud83d\ude00""#) == .string("é中😀"))
        #expect(try parse("\"raw é 中\"") == .string("raw é 中"))
    }

    @Test func skipsAByteOrderMark() throws {
        #expect(try ConfigurationJSONReader.parse([0xEF, 0xBB, 0xBF] + Array(#"{"port": 1}"#.utf8)) == .object(["port": .integer(1)]))
    }

    @Test(arguments: [
        (#"{"port": 8080,}"#, 1, 15, "expected a key in double quotes"),
        ("[1, 2,]", 1, 7, "expected a value (object, array, string, number, true, false or null)"),
        ("{\n  \"port\": 08080\n}", 2, 12, "numbers must not have leading zeros"),
        (#"{"port": 1 /* c */}"#, 1, 12, "expected ',' or '}' after a value"),
        (#"{"port": 1} x"#, 1, 13, "unexpected text after the JSON value"),
        (#"{port: 1}"#, 1, 2, "expected a key in double quotes"),
        (#"{"port" 1}"#, 1, 9, "expected ':' after the key"),
        (#"{"port": 1"#, 1, 11, "expected ',' or '}' after a value"),
        (#"{"host": "abc"#, 1, 14, "the file ends inside a string"),
        ("", 1, 1, "the file ends where a value was expected"),
        ("   \n ", 2, 2, "the file ends where a value was expected"),
        ("tru", 1, 1, "expected 'true'"),
        ("NaN", 1, 1, "expected a value (object, array, string, number, true, false or null)"),
        ("-", 1, 2, "expected a digit"),
        ("1.", 1, 3, "expected a digit after '.'"),
        ("1e", 1, 3, "expected a digit in the exponent"),
        ("\"a\tb\"", 1, 3, "control characters must be escaped inside strings"),
        (#""\x""#, 1, 3, "unknown escape '\\x'"),
        (#""\u12G4""#, 1, 6, "expected four hexadecimal digits after \\u"),
        (#""\ud83d""#, 1, 8, "a \\u escape of a high surrogate must be followed by a low surrogate"),
        (#""\ud83d\u0041""#, 1, 14, "expected a low surrogate escape"),
        (#""\ude00""#, 1, 8, "a \\u escape names a lone surrogate"),
    ])
    func rejectsWhatRFC8259Rejects(text: String, line: Int, column: Int, problem: String) {
        #expect(throws: ConfigurationJSONError.syntax(line: line, column: column, problem: problem)) {
            try parse(text)
        }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: ConfigurationJSONError.syntax(line: 1, column: 1, problem: "this string is not valid UTF-8")) {
            try ConfigurationJSONReader.parse([0x22, 0xC3, 0x28, 0x22])
        }
    }

    @Test func rejectsDuplicateKeys() {
        #expect(throws: ConfigurationJSONError.duplicateKey("port")) {
            try parse(#"{"port": 1, "host": "h", "port": 2}"#)
        }
    }

    @Test func refusesDeepNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: ConfigurationJSONError.syntax(line: 1, column: 65, problem: "nested more than 64 levels deep")) {
            try parse(deep)
        }
        let allowed = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try parse(allowed) }
    }
}
