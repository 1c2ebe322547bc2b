// libFuzzer target over "bytes → pre-processed tensor". Built by scripts/fuzz-imaging
// together with the Imaging sources into one module (so there is no `import Imaging`).
//
// Mutated PNGs almost always fail their chunk CRCs, which would stop every input at the
// first check; so when the first byte is odd the harness repairs the CRCs before decoding,
// letting mutations reach the chunk parsers, the inflater, unfiltering and the resampler.
// Inputs with an even first byte go through unchanged and exercise the CRC path itself.
// The input's length picks the output size, so upscaling, downscaling and degenerate crops
// are all reached.

/// Limits tighter than the service's, so AddressSanitizer's shadow memory stays small; the
/// code paths are the same.
private let fuzzLimits = ImageLimits(maxPixels: 4_000_000, maxEncodedBytes: 1 << 20, maxMetadataBytes: 1 << 20)

private let preprocessors = [240, 64, 17, 1].map { try! Preprocessor(size: $0) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImaging(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let first = bytes.first, first & 1 == 1 {
        repairPNGChunkCRCs(&bytes)
    }
    guard let image = try? ImageDecoder.decode(bytes, limits: fuzzLimits) else { return 0 }
    let preprocessor = preprocessors[size % preprocessors.count]
    let tensor = preprocessor.tensor(image)
    // Invariants that hold for every decodable input.
    precondition(tensor.count == 3 * preprocessor.size * preprocessor.size, "tensor has \(tensor.count) values")
    precondition(tensor.allSatisfy { $0.isFinite && abs($0) < 3 }, "tensor value out of range")
    return 0
}

/// Rewrites each chunk's CRC-32 to match its type and data, walking the chunk lengths as
/// written (however wrong they are) until they run past the end.
private func repairPNGChunkCRCs(_ bytes: inout [UInt8]) {
    let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    guard bytes.count > 8, Array(bytes[0..<8]) == signature else { return }
    var offset = 8
    while offset + 12 <= bytes.count {
        let length = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
        let end = offset + 8 + length
        guard length >= 0, end + 4 <= bytes.count else { return }
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes[(offset + 4)..<end] {
            crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        crc = ~crc
        bytes[end] = UInt8(crc >> 24)
        bytes[end + 1] = UInt8(truncatingIfNeeded: crc >> 16)
        bytes[end + 2] = UInt8(truncatingIfNeeded: crc >> 8)
        bytes[end + 3] = UInt8(truncatingIfNeeded: crc)
        offset = end + 4
    }
}

private let crcTable: [UInt32] = (0..<256).map { index in
    var value = UInt32(index)
    for _ in 0..<8 {
        value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1
    }
    return value
}
