/// CRC-32 (ISO 3309, the polynomial PNG and zlib use), for comparing decoded pixels with the
/// checksums the corpus script recorded and for building test PNGs.
enum CRC32 {
    static func checksum<Bytes: Sequence>(_ bytes: Bytes, startingWith initial: UInt32 = 0) -> UInt32 where Bytes.Element == UInt8 {
        var crc = ~initial
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return ~crc
    }

    static func checksum(of samples: [UInt16]) -> UInt32 {
        checksum(samples.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] })
    }

    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 {
            value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1
        }
        return value
    }
}
