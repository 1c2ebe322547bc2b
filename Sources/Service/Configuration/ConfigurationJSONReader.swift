/// A strict reader for the configuration file: RFC 8259 JSON and nothing more — no trailing
/// commas, comments or leading zeros, every string valid UTF-8 — so a file means the same to
/// this service as to any other tool that reads it. A leading byte-order mark is skipped
/// (RFC 8259 §8.1 allows it).
struct ConfigurationJSONReader {
    /// Deepest nesting accepted; a configuration needs one level, so this only stops a
    /// hostile file from exhausting the stack.
    static let maximumDepth = 64

    private let bytes: [UInt8]
    private var position = 0

    /// The one value `bytes` holds.
    static func parse(_ bytes: [UInt8]) throws(ConfigurationJSONError) -> ConfigurationFileValue {
        var reader = ConfigurationJSONReader(bytes: bytes)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { reader.position = 3 }
        let value = try reader.value(depth: 0)
        reader.skipWhitespace()
        guard reader.position == bytes.count else { throw reader.failure("unexpected text after the JSON value") }
        return value
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private var next: UInt8? { position < bytes.count ? bytes[position] : nil }

    // RFC 8259 §2: value = false / null / true / object / array / number / string
    private mutating func value(depth: Int) throws(ConfigurationJSONError) -> ConfigurationFileValue {
        skipWhitespace()
        guard depth < Self.maximumDepth else { throw failure("nested more than \(Self.maximumDepth) levels deep") }
        guard let first = next else { throw failure("the file ends where a value was expected") }
        switch first {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw failure("expected a value (object, array, string, number, true, false or null)")
        }
    }

    // RFC 8259 §4: object = { [ member *( , member ) ] }, member = string : value
    private mutating func object(depth: Int) throws(ConfigurationJSONError) -> ConfigurationFileValue {
        position += 1
        var members: [String: ConfigurationFileValue] = [:]
        skipWhitespace()
        if next == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard next == UInt8(ascii: "\"") else { throw failure("expected a key in double quotes") }
            let key = try string()
            skipWhitespace()
            guard next == UInt8(ascii: ":") else { throw failure("expected ':' after the key") }
            position += 1
            let member = try value(depth: depth + 1)
            guard members.updateValue(member, forKey: key) == nil else { throw .duplicateKey(key) }
            skipWhitespace()
            switch next {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return .object(members)
            default: throw failure("expected ',' or '}' after a value")
            }
        }
    }

    // RFC 8259 §5: array = [ [ value *( , value ) ] ]
    private mutating func array(depth: Int) throws(ConfigurationJSONError) -> ConfigurationFileValue {
        position += 1
        var elements: [ConfigurationFileValue] = []
        skipWhitespace()
        if next == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            elements.append(try value(depth: depth + 1))
            skipWhitespace()
            switch next {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return .array(elements)
            default: throw failure("expected ',' or ']' after a value")
            }
        }
    }

    // RFC 8259 §6: number = [ minus ] int [ frac ] [ exp ], int = zero / ( digit1-9 *DIGIT )
    private mutating func number() throws(ConfigurationJSONError) -> ConfigurationFileValue {
        let start = position
        if next == UInt8(ascii: "-") { position += 1 }
        guard let first = next, isDigit(first) else { throw failure("expected a digit") }
        position += 1
        if first == UInt8(ascii: "0"), let following = next, isDigit(following) {
            throw failure("numbers must not have leading zeros")
        }
        skipDigits()
        var isInteger = true
        if next == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard let digit = next, isDigit(digit) else { throw failure("expected a digit after '.'") }
            skipDigits()
        }
        if next == UInt8(ascii: "e") || next == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if next == UInt8(ascii: "+") || next == UInt8(ascii: "-") { position += 1 }
            guard let digit = next, isDigit(digit) else { throw failure("expected a digit in the exponent") }
            skipDigits()
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if isInteger, let integer = Int(text) { return .integer(integer) }
        return .number(Double(text) ?? .nan)
    }

    // RFC 8259 §7: string = quotation-mark *char quotation-mark
    private mutating func string() throws(ConfigurationJSONError) -> String {
        let opening = position
        position += 1
        var utf8: [UInt8] = []
        while true {
            guard let byte = next else { throw failure("the file ends inside a string") }
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let text = String(validating: utf8, as: UTF8.self) else {
                    position = opening
                    throw failure("this string is not valid UTF-8")
                }
                return text
            case UInt8(ascii: "\\"):
                position += 1
                try escape(into: &utf8)
            case 0..<0x20:
                throw failure("control characters must be escaped inside strings")
            default:
                utf8.append(byte)
                position += 1
            }
        }
    }

    private mutating func escape(into utf8: inout [UInt8]) throws(ConfigurationJSONError) {
        guard let letter = next else { throw failure("the file ends inside a string") }
        let shortEscape: UInt8? = switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): letter
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
        if let shortEscape {
            utf8.append(shortEscape)
            position += 1
            return
        }
        guard letter == UInt8(ascii: "u") else {
            throw failure("unknown escape '\\\(Character(UnicodeScalar(letter)))'")
        }
        position += 1
        try unicodeEscape(into: &utf8)
    }

    /// The rest of a `\uXXXX` escape, with the low half of a surrogate pair when one follows.
    private mutating func unicodeEscape(into utf8: inout [UInt8]) throws(ConfigurationJSONError) {
        var scalar = try hexQuad()
        if (0xD800..<0xDC00).contains(scalar) {
            // A high surrogate must be followed by an escaped low one (RFC 8259 §7).
            guard next == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") else {
                throw failure("a \\u escape of a high surrogate must be followed by a low surrogate")
            }
            position += 2
            let low = try hexQuad()
            guard (0xDC00..<0xE000).contains(low) else { throw failure("expected a low surrogate escape") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let unicode = Unicode.Scalar(scalar) else { throw failure("a \\u escape names a lone surrogate") }
        utf8.append(contentsOf: String(unicode).utf8)
    }

    private mutating func hexQuad() throws(ConfigurationJSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = next, let digit = Character(UnicodeScalar(byte)).hexDigitValue else {
                throw failure("expected four hexadecimal digits after \\u")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    private mutating func literal(_ word: String) throws(ConfigurationJSONError) {
        let expected = Array(word.utf8)
        guard bytes[position...].starts(with: expected) else { throw failure("expected '\(word)'") }
        position += expected.count
    }

    // RFC 8259 §2: ws = *( %x20 / %x09 / %x0A / %x0D )
    private mutating func skipWhitespace() {
        while let byte = next, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
    }

    private mutating func skipDigits() {
        while let byte = next, isDigit(byte) { position += 1 }
    }

    private func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    /// A syntax error at the current position, with its line and column.
    private func failure(_ problem: String) -> ConfigurationJSONError {
        let before = bytes[..<min(position, bytes.count)]
        let line = before.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
        let lineStart = before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        return .syntax(line: line, column: position - lineStart + 1, problem: problem)
    }
}
