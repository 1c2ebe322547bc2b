/// JSON string literals written by hand, so that error bodies and the configuration file come
/// out byte-for-byte the same on every platform (Foundation's encoder differs in which
/// characters it escapes).
enum JSONText {
    /// `text` as a JSON string literal (RFC 8259 §7), quotes included: `"` and `\` escaped,
    /// control characters as short escapes or `\u00XX`, everything else as UTF-8.
    static func quoted(_ text: String) -> String {
        var literal = "\""
        literal.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": literal += "\\\""
            case "\\": literal += "\\\\"
            case "\n": literal += "\\n"
            case "\r": literal += "\\r"
            case "\t": literal += "\\t"
            case "\u{08}": literal += "\\b"
            case "\u{0C}": literal += "\\f"
            case let control where control.value < 0x20:
                let hex = String(control.value, radix: 16)
                literal += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                literal.unicodeScalars.append(scalar)
            }
        }
        literal += "\""
        return literal
    }
}
