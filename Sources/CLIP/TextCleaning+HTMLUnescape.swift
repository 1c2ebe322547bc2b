extension TextCleaning {
    /// Python's `html.unescape`: decimal, hexadecimal and named character references by the
    /// HTML5 rules — the semicolon is optional, an unknown name decodes its longest known
    /// prefix (`&ampx` → `&x`), and references to surrogates, controls and noncharacters
    /// get the replacements the standard gives.
    static func htmlUnescape(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains("&") else { return text }
        var unescaped: [Unicode.Scalar] = []
        unescaped.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            if text[index] == "&", let reference = characterReference(after: index, in: text) {
                unescaped += reference.replacement
                index = reference.end
            } else {
                unescaped.append(text[index])
                index += 1
            }
        }
        return unescaped
    }

    private typealias Reference = (replacement: [Unicode.Scalar], end: Int)

    private static func characterReference(after ampersand: Int, in text: [Unicode.Scalar]) -> Reference? {
        let start = ampersand + 1
        guard start < text.count else { return nil }
        if text[start] == "#" {
            return numericReference(startingAt: start + 1, in: text)
        }
        return namedReference(startingAt: start, in: text)
    }

    /// `#[0-9]+;?` first, then `#[xX][0-9a-fA-F]+;?`, as Python's pattern orders them.
    private static func numericReference(startingAt start: Int, in text: [Unicode.Scalar]) -> Reference? {
        let radix: UInt32
        var digitsStart = start
        if start < text.count, digitValue(text[start], radix: 10) != nil {
            radix = 10
        } else if start + 1 < text.count, text[start] == "x" || text[start] == "X",
                  digitValue(text[start + 1], radix: 16) != nil {
            radix = 16
            digitsStart = start + 1
        } else {
            return nil
        }
        // Any value past U+10FFFF decodes alike, so the number saturates instead of overflowing.
        var value: UInt32 = 0
        var end = digitsStart
        while end < text.count, let digit = digitValue(text[end], radix: radix) {
            value = min(value * radix + digit, beyondUnicode)
            end += 1
        }
        if end < text.count, text[end] == ";" { end += 1 }
        return (numericReplacement(for: value), end)
    }

    private static let beyondUnicode: UInt32 = 0x110000

    private static func digitValue(_ scalar: Unicode.Scalar, radix: UInt32) -> UInt32? {
        let value = scalar.value
        let digit: UInt32
        switch value {
        case 0x30...0x39: digit = value - 0x30
        case 0x41...0x46: digit = value - 0x41 + 10
        case 0x61...0x66: digit = value - 0x61 + 10
        default: return nil
        }
        return digit < radix ? digit : nil
    }

    /// HTML5's table for numeric references that do not name a usable character.
    private static func numericReplacement(for value: UInt32) -> [Unicode.Scalar] {
        switch value {
        case 0x00: return ["\u{FFFD}"]
        case 0x0D: return ["\r"]
        case 0x80...0x9F: return [windows1252Characters[value] ?? Unicode.Scalar(UInt8(value))]
        case 0xD800...0xDFFF, beyondUnicode...: return ["\u{FFFD}"]
        case 0x01...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0xFDD0...0xFDEF: return []
        case _ where value & 0xFFFE == 0xFFFE: return []
        default: return Unicode.Scalar(value).map { [$0] } ?? ["\u{FFFD}"]
        }
    }

    /// `[^\t\n\f <&#;]{1,32};?`: the name, then its longest known prefix, else left as is.
    private static func namedReference(startingAt start: Int, in text: [Unicode.Scalar]) -> Reference? {
        var end = start
        while end < text.count, end - start < 32, !endsReferenceName(text[end]) {
            end += 1
        }
        guard end > start else { return nil }
        if end < text.count, text[end] == ";" { end += 1 }
        let name = text[start..<end]
        if let replacement = namedReferenceValue(name) {
            return (replacement, end)
        }
        for prefixLength in stride(from: name.count - 1, through: 2, by: -1) {
            if let replacement = namedReferenceValue(name.prefix(prefixLength)) {
                return (replacement + name.dropFirst(prefixLength), end)
            }
        }
        return (["&"] + name, end)
    }

    private static func endsReferenceName(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\t", "\n", "\u{0C}", " ", "<", "&", "#", ";": return true
        default: return false
        }
    }

    /// Every entity name is ASCII, so other text never names one — checked first because a
    /// `String` lookup would match canonical equivalents (`K` for KELVIN SIGN U+212A).
    private static func namedReferenceValue(_ name: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar]? {
        guard name.allSatisfy(\.isASCII) else { return nil }
        return htmlNamedReferences[String(String.UnicodeScalarView(name))]
    }

    /// ftfy's `unescape_html`, stricter than `html.unescape` so that informal text such as
    /// `this&not that` survives: only `&name;` with its semicolon, 1–24 ASCII letters or
    /// digits (or `#` and those), and only when the name is a known entity, an upper-case
    /// form of one (`&EACUTE;` → `É`), or a numeric reference that decodes completely.
    static func decodingFTFYEntities(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains("&") else { return text }
        var decoded: [Unicode.Scalar] = []
        decoded.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            if text[index] == "&", let end = ftfyEntityEnd(after: index, in: text) {
                decoded += ftfyEntityValue(text[index..<end])
                index = end
            } else {
                decoded.append(text[index])
                index += 1
            }
        }
        return decoded
    }

    /// `&#?[0-9A-Za-z]{1,24};`
    private static func ftfyEntityEnd(after ampersand: Int, in text: [Unicode.Scalar]) -> Int? {
        var start = ampersand + 1
        if start < text.count, text[start] == "#" { start += 1 }
        var end = start
        while end < text.count, isASCIILetterOrDigit(text[end]) { end += 1 }
        guard (1...24).contains(end - start), end < text.count, text[end] == ";" else { return nil }
        return end + 1
    }

    private static func isASCIILetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        default: return false
        }
    }

    private static func ftfyEntityValue(_ entity: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        let name = String(String.UnicodeScalarView(entity.dropFirst()))
        if let value = htmlNamedReferences[name] ?? uppercaseEntityVariants[name] {
            return value
        }
        if name.hasPrefix("#") {
            // A numeric reference only counts if it decodes whole, semicolon included.
            let value = htmlUnescape(Array(entity))
            return value.contains(";") ? Array(entity) : value
        }
        return Array(entity)
    }

    /// ftfy's upper-case entity names: for each all-lower-case name with a semicolon whose
    /// upper-case spelling `html.unescape` would leave alone, that spelling decodes to the
    /// upper-cased character (`&NTILDE;` → `Ñ`, `&SZLIG;` → `SS`).
    static let uppercaseEntityVariants: [String: [Unicode.Scalar]] = {
        var variants: [String: [Unicode.Scalar]] = [:]
        for (name, value) in htmlNamedReferences where name.hasSuffix(";") && name == name.lowercased() {
            let upperName = name.uppercased()
            let reference = Array(("&" + upperName).unicodeScalars)
            if htmlUnescape(reference) == reference {
                variants[upperName] = value.flatMap(\.properties.uppercaseMapping.unicodeScalars)
            }
        }
        return variants
    }()
}
