import Foundation

extension TextCleaning {
    /// ftfy 6.3.1's `fix_text` with its default configuration, less mojibake repair.
    ///
    /// Implemented, in ftfy's order and with its rules: HTML entity decoding (ftfy's own
    /// rule: only `&name;` forms, upper-case variants of lower-case names, and numeric
    /// references; a line containing `<` switches it off for that line and every later one),
    /// C1 control characters read as Windows-1252, Latin ligatures split, full-width and
    /// half-width forms to standard width (and U+3000 to a space), curly quotes straightened,
    /// line breaks to `\n`, ANSI terminal escapes removed, invisible control characters
    /// removed, NFC normalisation — each line fixed on its own and the fixes repeated until
    /// the text stops changing.
    ///
    /// Not implemented:
    /// - `fix_encoding` (mojibake repair, with its `restore_byte_a0`,
    ///   `replace_lossy_sequences` and `decode_inconsistent_utf8` steps). It guesses, from
    ///   statistical "badness" tables, that text was decoded with the wrong one of ten legacy
    ///   codecs and re-decodes it. Prompts and class names are typed text, not mis-decoded
    ///   bytes, and carrying those codecs and heuristics would be most of ftfy. So mojibake
    ///   is tokenized as written: `cafÃ©` stays `cafÃ©` where open_clip would read `café`.
    /// - `fix_surrogates`: a Swift `String` cannot hold lone UTF-16 surrogates (they become
    ///   U+FFFD when the string is made), so there is nothing left to fix.
    static func fixText(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        if text.allSatisfy(isPlainPrintableASCII) { return text }
        var fixed: [Unicode.Scalar] = []
        fixed.reserveCapacity(text.count)
        var decodesEntities = true
        var segmentStart = 0
        while segmentStart < text.count {
            let lineEnd = text[segmentStart...].firstIndex(of: "\n").map { $0 + 1 } ?? text.count
            let segmentEnd = min(lineEnd, segmentStart + maximumSegmentLength)
            let segment = Array(text[segmentStart..<segmentEnd])
            // A literal `<` means the text is HTML, whose entities are meant literally; ftfy
            // then leaves entities alone in this segment and all that follow it.
            if decodesEntities && segment.contains("<") { decodesEntities = false }
            fixed += fixSegment(segment, decodesEntities: decodesEntities)
            segmentStart = segmentEnd
        }
        return fixed
    }

    /// ftfy's `max_decode_length`: longer lines are fixed in pieces of this many code points.
    private static let maximumSegmentLength = 1_000_000

    /// Text made only of these is left unchanged by every fix.
    private static func isPlainPrintableASCII(_ scalar: Unicode.Scalar) -> Bool {
        (0x20...0x7E).contains(scalar.value) && scalar != "&"
    }

    /// One round of ftfy's fixes, repeated until the text stops changing (`&amp;lt;` takes
    /// two rounds). This terminates: after the first round only entity decoding can change
    /// the text, and every decoded entity removes one more `&` or `;` than it brings in.
    private static func fixSegment(_ segment: [Unicode.Scalar], decodesEntities: Bool) -> [Unicode.Scalar] {
        var text = segment
        while true {
            var next = decodesEntities ? decodingFTFYEntities(text) : text
            next = standardCharacterForms(next)
            next = normalizingLineBreaks(next)
            next = removingTerminalEscapes(next)
            next.removeAll(where: isUnintendedControlCharacter)
            next = canonicallyComposed(next)
            if next == text { return next }
            text = next
        }
    }

    /// ftfy's `fix_c1_controls`, `fix_latin_ligatures`, `fix_character_width` and
    /// `uncurl_quotes`, in that order. Each maps single characters, so chaining them per
    /// character equals running them one after another over the text.
    private static func standardCharacterForms(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var mapped: [Unicode.Scalar] = []
        mapped.reserveCapacity(text.count)
        for scalar in text {
            if scalar.value < 0x80 {
                mapped.append(scalar)
                continue
            }
            let windows1252 = windows1252Characters[scalar.value] ?? scalar
            for letter in latinLigatures[windows1252.value] ?? [windows1252] {
                for standardWidth in standardWidthForms[letter.value] ?? [letter] {
                    mapped.append(straightQuote(for: standardWidth))
                }
            }
        }
        return mapped
    }

    /// C1 control characters U+0080–U+009F as the Windows-1252 characters their byte values
    /// stand for (what browsers do); the five bytes Windows-1252 leaves undefined stay as
    /// they are. `html.unescape` uses the same table for numeric references to 0x80–0x9F.
    static let windows1252Characters: [UInt32: Unicode.Scalar] = [
        0x80: "\u{20AC}", 0x82: "\u{201A}", 0x83: "\u{0192}", 0x84: "\u{201E}",
        0x85: "\u{2026}", 0x86: "\u{2020}", 0x87: "\u{2021}", 0x88: "\u{02C6}",
        0x89: "\u{2030}", 0x8A: "\u{0160}", 0x8B: "\u{2039}", 0x8C: "\u{0152}",
        0x8E: "\u{017D}", 0x91: "\u{2018}", 0x92: "\u{2019}", 0x93: "\u{201C}",
        0x94: "\u{201D}", 0x95: "\u{2022}", 0x96: "\u{2013}", 0x97: "\u{2014}",
        0x98: "\u{02DC}", 0x99: "\u{2122}", 0x9A: "\u{0161}", 0x9B: "\u{203A}",
        0x9C: "\u{0153}", 0x9E: "\u{017E}", 0x9F: "\u{0178}",
    ]

    /// ftfy's list: typographic Latin ligatures and legacy digraphs, taken apart. Ligatures
    /// such as `æ` that are written on purpose are not in it.
    private static let latinLigatures: [UInt32: [Unicode.Scalar]] = [
        0x0132: ["I", "J"], 0x0133: ["i", "j"], 0x0149: ["\u{02BC}", "n"],
        0x01F1: ["D", "Z"], 0x01F2: ["D", "z"], 0x01F3: ["d", "z"],
        0x01C4: ["D", "\u{017D}"], 0x01C5: ["D", "\u{017E}"], 0x01C6: ["d", "\u{017E}"],
        0x01C7: ["L", "J"], 0x01C8: ["L", "j"], 0x01C9: ["l", "j"],
        0x01CA: ["N", "J"], 0x01CB: ["N", "j"], 0x01CC: ["n", "j"],
        0xFB00: ["f", "f"], 0xFB01: ["f", "i"], 0xFB02: ["f", "l"],
        0xFB03: ["f", "f", "i"], 0xFB04: ["f", "f", "l"], 0xFB05: ["\u{017F}", "t"], 0xFB06: ["s", "t"],
    ]

    /// ftfy's width map: every character of the Halfwidth and Fullwidth Forms block
    /// (U+FF01–U+FFEF) that NFKC changes, to its NFKC form, and the ideographic space
    /// U+3000 to an ASCII space.
    private static let standardWidthForms: [UInt32: [Unicode.Scalar]] = {
        var forms: [UInt32: [Unicode.Scalar]] = [0x3000: [" "]]
        for value in UInt32(0xFF01)..<0xFFF0 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let original = String(Character(scalar))
            let compatible = Array(original.precomposedStringWithCompatibilityMapping.unicodeScalars)
            if compatible != [scalar] { forms[value] = compatible }
        }
        return forms
    }()

    private static func straightQuote(for scalar: Unicode.Scalar) -> Unicode.Scalar {
        switch scalar.value {
        case 0x02BC, 0x2018...0x201B: return "'"
        case 0x201C...0x201F: return "\""
        default: return scalar
        }
    }

    /// ftfy's `fix_line_breaks`: CRLF, CR, U+2028, U+2029 and U+0085 each become `\n`.
    private static func normalizingLineBreaks(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var normalized: [Unicode.Scalar] = []
        normalized.reserveCapacity(text.count)
        for (index, scalar) in text.enumerated() {
            switch scalar {
            case "\r" where index + 1 < text.count && text[index + 1] == "\n":
                continue
            case "\r", "\u{2028}", "\u{2029}", "\u{0085}":
                normalized.append("\n")
            default:
                normalized.append(scalar)
            }
        }
        return normalized
    }

    /// ftfy's `remove_terminal_escapes`: `ESC [` then decimal digits or `;`, then an ASCII
    /// letter (its pattern's `\d` is Unicode-aware, so any decimal digit counts).
    private static func removingTerminalEscapes(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains("\u{1B}") else { return text }
        var kept: [Unicode.Scalar] = []
        kept.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            if text[index] == "\u{1B}", let end = terminalEscapeEnd(startingAt: index, in: text) {
                index = end
            } else {
                kept.append(text[index])
                index += 1
            }
        }
        return kept
    }

    /// The index just past the escape sequence starting with ESC at `start`, if one does.
    private static func terminalEscapeEnd(startingAt start: Int, in text: [Unicode.Scalar]) -> Int? {
        var index = start + 1
        guard index < text.count, text[index] == "[" else { return nil }
        index += 1
        while index < text.count, text[index] == ";" || text[index].properties.numericType == .decimal {
            index += 1
        }
        guard index < text.count, isASCIILetter(text[index]) else { return nil }
        return index + 1
    }

    private static func isASCIILetter(_ scalar: Unicode.Scalar) -> Bool {
        (0x41...0x5A).contains(scalar.value) || (0x61...0x7A).contains(scalar.value)
    }

    /// ftfy's `remove_control_chars`: ASCII controls other than tab, line feed, form feed
    /// and carriage return, DEL, the deprecated Arabic format controls, the byte order mark
    /// and the interlinear annotation and object replacement characters. Joiners,
    /// direction marks and C1 controls are kept on purpose.
    private static func isUnintendedControlCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0x206A...0x206F, 0xFEFF, 0xFFF9...0xFFFC:
            return true
        default:
            return false
        }
    }
}
