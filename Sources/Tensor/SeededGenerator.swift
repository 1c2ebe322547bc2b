#if canImport(Glibc)
import Glibc
#endif

/// A small, fast, reproducible random number generator (xoshiro256**, seeded through
/// SplitMix64), for demo weights and test data that must be the same on every machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose whole sequence is determined by `seed`.
    public init(seed: UInt64) {
        var mix = seed
        func splitMix() -> UInt64 {
            mix &+= 0x9E37_79B9_7F4A_7C15
            var z = mix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = state.3 << 45 | state.3 >> 19
        return result
    }

    /// A uniform float in [0, 1) with 24 random bits.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Fills `buffer` with normal samples of mean 0 and standard deviation `std`
    /// (Box–Muller, two samples per pair of uniforms).
    public mutating func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>, std: Float) {
        var index = 0
        while index < buffer.count {
            let u1 = max(nextUnitFloat(), Float.leastNormalMagnitude)
            let u2 = nextUnitFloat()
            let radius = (-2 * logf(u1)).squareRoot() * std
            let angle = 2 * Float.pi * u2
            buffer[index] = radius * cosf(angle)
            if index + 1 < buffer.count { buffer[index + 1] = radius * sinf(angle) }
            index += 2
        }
    }

    /// Fills `buffer` with uniform samples in `-bound..<bound`.
    public mutating func fillUniform(_ buffer: UnsafeMutableBufferPointer<Float>, bound: Float) {
        for index in buffer.indices {
            buffer[index] = (nextUnitFloat() * 2 - 1) * bound
        }
    }
}
