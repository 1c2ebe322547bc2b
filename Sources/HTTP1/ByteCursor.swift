/// Writes bytes one after another into memory the caller provides, sized beforehand: for
/// assembling a response head in one temporary buffer and appending it to the output at
/// once, rather than growing the output array piece by piece (each append checks the array's
/// uniqueness and capacity again).
struct ByteCursor {
    private let base: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    /// The bytes written so far.
    private(set) var count = 0

    /// A cursor at the start of `buffer`, which must stay valid while the cursor is used.
    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        base = buffer.baseAddress!
        capacity = buffer.count
    }

    /// What has been written.
    var written: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base, count: count)
    }

    mutating func write(_ byte: UInt8) {
        precondition(count < capacity, "a response head outgrew the room measured for it")
        base[count] = byte
        count += 1
    }

    mutating func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        precondition(bytes.count <= capacity - count, "a response head outgrew the room measured for it")
        if let source = bytes.baseAddress { (base + count).update(from: source, count: bytes.count) }
        count += bytes.count
    }

    mutating func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { write($0) }
    }

    /// Writes the UTF-8 of a literal.
    mutating func write(_ text: StaticString) {
        text.withUTF8Buffer { write($0) }
    }

    /// Writes the UTF-8 of `text`, at once from its contiguous storage (which every native
    /// string has).
    mutating func write(_ text: String) {
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { write($0) }
        if copied == nil {
            for byte in text.utf8 { write(byte) }
        }
    }

    /// Writes a non-negative integer in decimal (at most 20 bytes), without building a String.
    mutating func writeDecimal(_ value: Int) {
        guard value > 0 else {
            write(UInt8(ascii: "0"))
            return
        }
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var remaining = value
        while divisor > 0 {
            write(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: remaining / divisor))
            remaining %= divisor
            divisor /= 10
        }
    }
}
