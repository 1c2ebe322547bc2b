import Tensor

/// The byte layout of derived data in the database: float32 arrays one after another,
/// little-endian, without a header. What the arrays are and their lengths follow from the
/// row (its kind, shots and extra count) and the model's ``Service/FeatureGeometry``, so a
/// payload of any other length is refused. The row's `sha256` is the SHA-256 of the
/// payload, which is the digest `FeatureCache` computes over the same arrays.
///
/// | kind | arrays, in order |
/// |---|---|
/// | `features` | each tap layer `[patches × shots, tap width]`, then the prototype `[embedding width]` |
/// | `calibration` | the scores `[n]`, then the residual maps `[n, patches]` (n = shot observations + extra) |
/// | text prior | `normal` `[embedding width]`, then `anomalous` `[embedding width]` |
enum DerivedPayload {
    /// `arrays` end to end as little-endian float32, bit for bit (NaN payloads and signed
    /// zeros included).
    static func encode(_ arrays: [[Float]]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(arrays.reduce(0) { $0 + $1.count } * 4)
        for array in arrays {
            #if _endian(little)
            array.withUnsafeBytes { bytes.append(contentsOf: $0) }
            #else
            for value in array { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
            #endif
        }
        return bytes
    }

    /// The arrays of `counts` elements `payload` holds; nil unless it holds exactly that
    /// many floats.
    static func decode(_ payload: [UInt8], counts: [Int]) -> [[Float]]? {
        guard payload.count == counts.reduce(0, +) * 4 else { return nil }
        var arrays: [[Float]] = []
        var offset = 0
        payload.withUnsafeBytes { raw in
            for count in counts {
                arrays.append((0..<count).map { index in
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + index * 4, as: UInt32.self)))
                })
                offset += count * 4
            }
        }
        return arrays
    }

    /// The payload's digest, 64 lowercase hex digits.
    static func digest(_ payload: [UInt8]) -> String {
        SHA256.hex(payload)
    }
}
