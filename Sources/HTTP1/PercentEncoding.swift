/// Percent-decoding of URI components (RFC 3986 §2.1).
enum PercentEncoding {
    /// The decoded text, or nil when a `%` is not followed by two hex digits or the bytes
    /// are not UTF-8: a broken component is refused rather than guessed at.
    static func decode(_ component: Substring, plusIsSpace: Bool = false) -> String? {
        // Most components hold nothing to decode; they need no byte buffer.
        let needsDecoding = component.utf8.contains { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }
        guard needsDecoding else { return String(component) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(component.utf8.count)
        var iterator = component.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(HTTPSyntax.hexDigitValue),
                      let low = iterator.next().flatMap(HTTPSyntax.hexDigitValue)
                else { return nil }
                bytes.append(UInt8(high << 4 | low))
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(HTTPSyntax.space)
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
