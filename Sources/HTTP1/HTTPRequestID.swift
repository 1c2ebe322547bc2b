import Synchronization

/// Request ids for the `X-Request-ID` header: 32 lowercase hex digits, unique across
/// processes and restarts without a system call per request.
///
/// The first 16 digits are 64 bits drawn once per process from the system's generator; the
/// last 16 are a per-process counter passed through SplitMix64's finaliser, a bijection on
/// 64 bits, so two requests of one process never share an id and ids do not read as a
/// sequence. (Drawing 128 fresh random bits for every request cost a `getrandom` call each:
/// about 5 % of the CPU time of a `GET /healthz`.)
public enum HTTPRequestID {
    private static let prefix: UInt64 = {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }()
    private static let counter = Atomic<UInt64>(0)

    /// A new id.
    public static func fresh() -> String {
        let (count, _) = counter.add(1, ordering: .relaxed)
        let suffix = mixed(count)
        // One string of 32 digits, written in place (joining two strings allocates twice).
        return String(unsafeUninitializedCapacity: 32) { buffer in
            writeHex(prefix, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<16]))
            writeHex(suffix, into: UnsafeMutableBufferPointer(rebasing: buffer[16..<32]))
            return 32
        }
    }

    /// SplitMix64's output function: a bijection on 64-bit values.
    static func mixed(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `value` as 16 lowercase hex digits.
    static func hex(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            writeHex(value, into: buffer)
            return 16
        }
    }

    /// Writes `value` as 16 lowercase hex digits into the first 16 bytes of `buffer`.
    private static func writeHex(_ value: UInt64, into buffer: UnsafeMutableBufferPointer<UInt8>) {
        for index in 0..<16 {
            let nibble = UInt8((value >> UInt64(60 - 4 * index)) & 0xF)
            buffer[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
        }
    }
}
