#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds a fixed byte pattern in a buffer: `memchr` (vectorised in the C library) jumps to
/// each occurrence of the pattern's first byte, and the rest is compared there.
///
/// A delimiter starts with CR (or, when looking for bare line feeds, LF) and a boundary
/// holds neither, so two comparisons can never overlap: the scan is linear in the body
/// whatever a client puts in it. (Horspool's skip search is faster on average, but a
/// boundary of one repeated letter over content of that letter makes it compare every
/// byte seventy times.)
struct DelimiterSearch {
    /// The bytes searched for; never empty.
    let pattern: [UInt8]

    /// Prepares a search for `pattern`, which must not be empty.
    init(pattern: [UInt8]) {
        self.pattern = pattern
    }

    /// The index of the first occurrence of the pattern in `bytes` at or after `start`.
    func firstIndex(in bytes: [UInt8], from start: Int) -> Int? {
        bytes.withUnsafeBufferPointer { haystack in
            pattern.withUnsafeBufferPointer { needle in
                guard let base = haystack.baseAddress, let first = needle.first else { return nil }
                let lastStart = haystack.count - needle.count
                var candidate = start
                while candidate <= lastStart {
                    // Only a start at or before lastStart can hold the whole pattern.
                    guard let found = memchr(base + candidate, Int32(first), lastStart - candidate + 1) else { return nil }
                    candidate = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    var offset = 1
                    while offset < needle.count, haystack[candidate + offset] == needle[offset] { offset += 1 }
                    if offset == needle.count { return candidate }
                    candidate += 1
                }
                return nil
            }
        }
    }
}
