/// Character classes and line framing shared by the request parser and the chunked body
/// decoder (RFC 9110 §5.6, RFC 9112 §2.2).
enum HTTPSyntax {
    static let carriageReturn: UInt8 = 0x0D
    static let lineFeed: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let horizontalTab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let equalsSign: UInt8 = 0x3D
    static let comma: UInt8 = 0x2C
    static let questionMark: UInt8 = 0x3F
    static let slash: UInt8 = 0x2F
    static let doubleQuote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C

    /// `tchar` (RFC 9110 §5.6.2): the characters of methods, field names and codings, that is
    /// letters, digits and ``tokenSymbols``. One bit test per byte: this runs for every byte
    /// of every method and field name, both ways.
    @inline(__always)
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        byte < 64 ? tokenBitsBelow64 >> byte & 1 == 1 : byte < 128 && tokenBitsFrom64 >> (byte - 64) & 1 == 1
    }

    /// The symbols that `tchar` allows besides letters and digits.
    static let tokenSymbols = "!#$%&'*+-.^_`|~"

    /// Bit `b` set for each `tchar` byte `b` below 64: the digits and the symbols `!#$%&'*+-.`.
    private static let tokenBitsBelow64: UInt64 = 0x03FF_6CFA_0000_0000
    /// Bit `b - 64` set for each `tchar` byte `b` from 64 to 127: the letters and `^_`|~`.
    private static let tokenBitsFrom64: UInt64 = 0x57FF_FFFF_C7FF_FFFE

    /// The characters of `uri-host [ ":" port ]` (RFC 3986 §3.2.2): unreserved, sub-delims,
    /// percent-encoding, the colon and IP-literal brackets.
    static func isHostCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
             UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"),
             UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: "%"),
             UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"):
            return true
        default:
            return false
        }
    }

    /// `field-vchar / SP / HTAB` (RFC 9110 §5.5): anything but control characters and DEL.
    /// Rejecting CR, LF and NUL here is what keeps header injection out.
    static func isFieldValueCharacter(_ byte: UInt8) -> Bool {
        byte == horizontalTab || (byte >= 0x20 && byte != 0x7F)
    }

    /// `OWS` (RFC 9110 §5.6.3).
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == space || byte == horizontalTab
    }

    /// `qdtext` (RFC 9110 §5.6.4).
    static func isQuotedTextCharacter(_ byte: UInt8) -> Bool {
        byte == horizontalTab || byte == space || byte == 0x21
            || (0x23...0x5B).contains(byte) || (0x5D...0x7E).contains(byte) || byte >= 0x80
    }

    /// The value of a `HEXDIG`, or nil.
    static func hexDigitValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// Whether `byte` is a `DIGIT`.
    static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// Whether every UTF-8 byte of `text` satisfies `predicate`, scanned in its contiguous
    /// storage when it has one.
    static func allBytes(of text: String, satisfy predicate: (UInt8) -> Bool) -> Bool {
        if let result = text.utf8.withContiguousStorageIfAvailable({ $0.allSatisfy(predicate) }) { return result }
        return text.utf8.allSatisfy(predicate)
    }

    /// Folds an ASCII upper-case letter to lower case; other bytes are unchanged.
    static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    /// Whether `bytes[range]` spells `lowercaseName`, ignoring ASCII case.
    static func bytes(_ bytes: [UInt8], in range: Range<Int>, equalIgnoringCase lowercaseName: StaticString) -> Bool {
        guard range.count == lowercaseName.utf8CodeUnitCount else { return false }
        return lowercaseName.withUTF8Buffer { name in
            var offset = 0
            for index in range {
                if lowercased(bytes[index]) != name[offset] { return false }
                offset += 1
            }
            return true
        }
    }

    /// `range` without leading and trailing `OWS`.
    static func trimmingWhitespace(_ bytes: [UInt8], _ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, isWhitespace(bytes[lower]) { lower += 1 }
        while upper > lower, isWhitespace(bytes[upper - 1]) { upper -= 1 }
        return lower..<upper
    }

    /// The outcome of looking for the next CRLF-terminated line.
    enum LineSearch: Equatable {
        /// A whole line: its content (without CRLF) and the index just past its LF.
        case line(Range<Int>, next: Int)
        /// No line end yet; keep the bytes and wait for more.
        case incomplete
        /// The line (with its CRLF) would be longer than the limit.
        case tooLong
        /// An LF not preceded by CR (RFC 9112 §2.2).
        case bareLineFeed
    }

    /// Looks for the line starting at `start`, resuming the scan after the `scanned` bytes
    /// already searched so byte-by-byte input costs linear, not quadratic, time.
    /// `limit` bounds the line including its CRLF.
    static func findLine(in bytes: [UInt8], from start: Int, scanned: inout Int, limit: Int) -> LineSearch {
        var index = start + scanned
        while index < bytes.count {
            if bytes[index] == lineFeed {
                let lengthWithTerminator = index + 1 - start
                if lengthWithTerminator > limit { return .tooLong }
                // RFC 9112 §2.2: a bare LF could be read differently by another parser on the
                // path (request smuggling), so only CRLF ends a line here.
                guard index > start, bytes[index - 1] == carriageReturn else { return .bareLineFeed }
                scanned = 0
                return .line(start..<(index - 1), next: index + 1)
            }
            index += 1
        }
        scanned = bytes.count - start
        return scanned >= limit ? .tooLong : .incomplete
    }

    /// Splits a field line (RFC 9112 §5: `field-name ":" OWS field-value OWS`) into the
    /// ranges of its name and trimmed value, rejecting what RFC 9112 §5.1–5.2 forbid.
    static func splitFieldLine(_ bytes: [UInt8], _ line: Range<Int>) throws(HTTPParseError) -> (name: Range<Int>, value: Range<Int>) {
        guard let first = line.first else { throw .malformedHeaderField }
        // RFC 9112 §5.2: obs-fold (a line starting with whitespace) is rejected with 400.
        if isWhitespace(bytes[first]) { throw .obsoleteLineFolding }
        guard let colon = bytes[line].firstIndex(of: Self.colon) else { throw .malformedHeaderField }
        let name = line.lowerBound..<colon
        guard !name.isEmpty else { throw .malformedHeaderField }
        // RFC 9112 §5.1: whitespace between field name and colon MUST be rejected with 400.
        if isWhitespace(bytes[colon - 1]) { throw .whitespaceBeforeColon }
        for index in name where !isTokenCharacter(bytes[index]) { throw .malformedHeaderField }
        let value = trimmingWhitespace(bytes, (colon + 1)..<line.upperBound)
        // RFC 9110 §5.5: CR, LF and NUL in a value are invalid and dangerous.
        for index in value where !isFieldValueCharacter(bytes[index]) { throw .invalidHeaderValue }
        return (name, value)
    }
}
