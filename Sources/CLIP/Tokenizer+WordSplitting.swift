extension CLIPTokenizer {
    /// One piece of cleaned text, as the reference's split pattern finds it.
    enum Word: Equatable {
        /// `<start_of_text>` or `<end_of_text>` written in the text: one token, no BPE.
        case special(Int32)
        /// Text to encode with BPE.
        case text(ArraySlice<Unicode.Scalar>)
    }

    /// The pieces of `text` that the reference's pattern
    /// `<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`
    /// (the `regex` module, case-insensitive) finds with `findall`: at each position the
    /// first alternative that matches wins, greedily, and a character that no alternative
    /// matches (whitespace) is skipped.
    static func words(in text: [Unicode.Scalar]) -> [Word] {
        var words: [Word] = []
        var index = 0
        while index < text.count {
            if text[index] == "<", let special = specialToken(at: index, in: text) {
                words.append(special.word)
                index += special.length
                continue
            }
            if text[index] == "'", let contraction = contractions.first(where: { matches($0, at: index, in: text) }) {
                words.append(.text(text[index..<(index + contraction.count)]))
                index += contraction.count
                continue
            }
            let start = index
            switch characterClass(of: text[index]) {
            case .letter:
                repeat { index += 1 } while index < text.count && characterClass(of: text[index]) == .letter
            case .number:
                index += 1
            case .other:
                repeat { index += 1 } while index < text.count && characterClass(of: text[index]) == .other
            case .unmatched:
                index += 1
                continue
            }
            words.append(.text(text[start..<index]))
        }
        return words
    }

    private static let specialTokens: [(literal: [Unicode.Scalar], id: Int32)] = [
        (Array("<start_of_text>".unicodeScalars), startOfText),
        (Array("<end_of_text>".unicodeScalars), endOfText),
    ]

    /// The pattern matches the special tokens case-insensitively, but only the exact
    /// spelling is a special token; a variant (`<ſtart_of_text>`) is split out as one word
    /// and encoded with BPE, as the reference does.
    private static func specialToken(at index: Int, in text: [Unicode.Scalar]) -> (word: Word, length: Int)? {
        for special in specialTokens where matches(special.literal, at: index, in: text) {
            let length = special.literal.count
            let matched = text[index..<(index + length)]
            let word: Word = matched.elementsEqual(special.literal) ? .special(special.id) : .text(matched)
            return (word, length)
        }
        return nil
    }

    private static let contractions: [[Unicode.Scalar]] = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"].map {
        Array($0.unicodeScalars)
    }

    /// Case-insensitive comparison with a lower-case ASCII literal. The text is already
    /// lower-cased, so the only other case variant left to match is `ſ` (U+017F LONG S),
    /// which case-folds to `s`.
    private static func matches(_ literal: [Unicode.Scalar], at index: Int, in text: [Unicode.Scalar]) -> Bool {
        guard index + literal.count <= text.count else { return false }
        for (offset, expected) in literal.enumerated() {
            let actual = text[index + offset]
            if actual != expected && !(expected == "s" && actual == "\u{017F}") { return false }
        }
        return true
    }

    private enum CharacterClass {
        /// `\p{L}`
        case letter
        /// `\p{N}`
        case number
        /// `[^\s\p{L}\p{N}]`: punctuation, symbols, marks, emoji, unassigned code points.
        case other
        /// Whitespace, and U+0345, which no alternative matches (see below).
        case unmatched
    }

    private static func characterClass(of scalar: Unicode.Scalar) -> CharacterClass {
        switch scalar.value {
        case 0x41...0x5A, 0x61...0x7A: return .letter
        case 0x30...0x39: return .number
        case 0x09...0x0D, 0x20: return .unmatched
        case 0x00...0x7F: return .other
        // COMBINING GREEK YPOGEGRAMMENI is a mark, so not `\p{L}`, but it case-folds to the
        // letter `ι`, and under IGNORECASE the `regex` module then counts it as inside the
        // class that `[^\s\p{L}\p{N}]` negates: no alternative matches it.
        case 0x0345: return .unmatched
        default: break
        }
        if scalar.properties.isWhitespace { return .unmatched }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }
}
