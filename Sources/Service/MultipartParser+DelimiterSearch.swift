/// Finds a fixed byte pattern in a buffer with Horspool's algorithm: on a mismatch the
/// window jumps ahead by up to the pattern's length, so scanning megabytes of image data for
/// a boundary delimiter reads only a fraction of the bytes and allocates nothing.
struct DelimiterSearch {
    /// The bytes searched for; never empty.
    let pattern: [UInt8]
    /// For each byte value, how far the window may move when that byte is under its last
    /// position.
    private let shifts: [Int]

    /// Prepares a search for `pattern`, which must not be empty.
    init(pattern: [UInt8]) {
        self.pattern = pattern
        var shifts = Array(repeating: pattern.count, count: 256)
        for (index, byte) in pattern.dropLast().enumerated() {
            shifts[Int(byte)] = pattern.count - 1 - index
        }
        self.shifts = shifts
    }

    /// The index of the first occurrence of the pattern in `bytes` at or after `start`.
    func firstIndex(in bytes: [UInt8], from start: Int) -> Int? {
        let length = pattern.count
        return bytes.withUnsafeBufferPointer { haystack in
            pattern.withUnsafeBufferPointer { needle in
                shifts.withUnsafeBufferPointer { shifts in
                    var window = start
                    while window + length <= haystack.count {
                        let last = haystack[window + length - 1]
                        if last == needle[length - 1] {
                            var offset = length - 2
                            while offset >= 0, haystack[window + offset] == needle[offset] { offset -= 1 }
                            if offset < 0 { return window }
                        }
                        window += shifts[Int(last)]
                    }
                    return nil
                }
            }
        }
    }
}
