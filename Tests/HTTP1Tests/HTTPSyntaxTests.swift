import Testing
@testable import HTTP1

/// The character classes the parser and the response checks share.
@Suite struct HTTPSyntaxTests {
    @Test func tokenCharactersAreLettersDigitsAndTheSymbolsOfTchar() {
        // RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "."
        //                        / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
        let symbols = Set("!#$%&'*+-.^_`|~".utf8)
        #expect(Set(HTTPSyntax.tokenSymbols.utf8) == symbols)
        for byte in UInt8.min...UInt8.max {
            let expected = (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)
                || symbols.contains(byte)
            #expect(HTTPSyntax.isTokenCharacter(byte) == expected, "byte \(byte)")
        }
    }
}
