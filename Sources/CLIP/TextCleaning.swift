/// The text normalisation `open_clip.tokenize` applies before it splits words
/// (`SimpleTokenizer` with its default `clean='lower'`): ftfy's `fix_text`, then
/// `html.unescape` twice, then runs of whitespace collapsed to one space, then Python's
/// `str.lower()`.
///
/// Everything here works on Unicode scalars, never on `Character`s or `String` equality,
/// because Python's string operations see code points: a grapheme cluster would hide the
/// `\r` of `\r\n` or a combining mark after a letter, and `String` equality treats
/// canonically equivalent texts (`é` and `e` + U+0301) as the same, which Python does not.
///
/// Character properties come from Swift's Unicode tables; the reference takes them from
/// Python 3.11's (Unicode 14: lower-casing, NFC, whitespace) and from the `regex` module's
/// (letters and numbers). Compared over every code point, they differ only for characters
/// one side has not assigned yet: 12,823 code points `regex` knows as letters or numbers
/// that Swift's tables leave unassigned (so here they split as punctuation), and 55 newer
/// characters Swift lower-cases and Python 3.11 does not.
enum TextCleaning {
    /// The cleaned text, ready for word splitting.
    static func clean(_ text: String) -> [Unicode.Scalar] {
        let fixed = fixText(Array(text.unicodeScalars))
        let unescaped = htmlUnescape(htmlUnescape(fixed))
        return lowercased(collapsingWhitespace(unescaped))
    }

    /// Python's `" ".join(text.split())`: whitespace runs become one space, none at the ends.
    static func collapsingWhitespace(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var collapsed: [Unicode.Scalar] = []
        collapsed.reserveCapacity(text.count)
        var pendingSpace = false
        for scalar in text {
            if isPythonWhitespace(scalar) {
                pendingSpace = !collapsed.isEmpty
            } else {
                if pendingSpace { collapsed.append(" ") }
                pendingSpace = false
                collapsed.append(scalar)
            }
        }
        return collapsed
    }

    /// Python's `str.isspace()`: Unicode White_Space plus the ASCII information separators
    /// U+001C–U+001F, which Python also splits on.
    static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F,
             0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Python's `str.lower()`: full lower-case mappings, including its one context rule,
    /// that a capital sigma ending a word becomes the final form `ς`.
    static func lowercased(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var lowered: [Unicode.Scalar] = []
        lowered.reserveCapacity(text.count)
        for (index, scalar) in text.enumerated() {
            if scalar.isASCII {
                let value = scalar.value
                lowered.append((0x41...0x5A).contains(value) ? Unicode.Scalar(UInt8(value + 0x20)) : scalar)
            } else if scalar == capitalSigma {
                lowered.append(isFinalSigma(at: index, in: text) ? "\u{03C2}" : "\u{03C3}")
            } else {
                lowered.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return lowered
    }

    private static let capitalSigma: Unicode.Scalar = "\u{03A3}"

    /// Unicode's Final_Sigma condition as Python tests it: a cased letter before the sigma
    /// (skipping case-ignorable characters) and no cased letter after it (likewise).
    private static func isFinalSigma(at index: Int, in text: [Unicode.Scalar]) -> Bool {
        let before = text[..<index].last { !$0.properties.isCaseIgnorable }
        guard let before, before.properties.isCased else { return false }
        let after = text[(index + 1)...].first { !$0.properties.isCaseIgnorable }
        return !(after?.properties.isCased ?? false)
    }
}
