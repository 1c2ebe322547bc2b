import Testing
@testable import Tensor

@Suite struct ElementwiseTests {
    let engine: ComputeEngine
    init() throws { engine = try ComputeEngine() }

    @Test func geluIsTheErfForm() throws {
        let input = (0..<200).map { Float($0 - 100) * 0.07 }
        let output = try engine.gelu(Tensor(shape: [200], scalars: input))
        let (error, _) = NaiveReference.maxError(output.scalars, input.map { NaiveReference.gelu(Double($0)) })
        // The tanh approximation differs from the erf form by up to ~5e-4 on this range.
        #expect(error <= 2e-6)
    }

    @Test func addBroadcastsSizeOneDimensions() throws {
        var random = SeededGenerator(seed: 41)
        let a = try Tensor(shape: [3, 4, 5], scalars: random.floats(60))
        let b = try Tensor(shape: [1, 4, 5], scalars: random.floats(20))
        let sum = try engine.add(a, b)
        for index in 0..<60 { #expect(sum.scalars[index] == a.scalars[index] + b.scalars[index % 20]) }
        #expect(throws: TensorError.self) { try engine.add(a, Tensor(zeros: [2, 4, 5])) }
    }

    /// The patch unfold of a vision transformer as one strided copy: image [c, y, x] with
    /// y = py·p + ky, x = px·p + kx becomes rows (py, px) of (c, ky, kx).
    @Test func copyUnfoldsPatches() throws {
        var random = SeededGenerator(seed: 42)
        let (channels, patch, grid) = (3, 4, 3)
        let side = patch * grid
        var image = random.floats(channels * side * side)
        var patches = [Float](repeating: 0, count: grid * grid * channels * patch * patch)
        try image.withUnsafeMutableBufferPointer { imageBuffer in
            try patches.withUnsafeMutableBufferPointer { patchBuffer in
                let source = TensorView(
                    imageBuffer.baseAddress!, shape: [grid, grid, channels, patch, patch],
                    strides: [patch * side, patch, side * side, side, 1])
                try engine.copy(source, into: TensorView(patchBuffer.baseAddress!, shape: source.shape))
            }
        }
        for py in 0..<grid {
            for px in 0..<grid {
                for c in 0..<channels {
                    for ky in 0..<patch {
                        for kx in 0..<patch {
                            let row = py * grid + px
                            let column = (c * patch + ky) * patch + kx
                            let pixel = image[(c * side + py * patch + ky) * side + px * patch + kx]
                            #expect(patches[row * channels * patch * patch + column] == pixel)
                        }
                    }
                }
            }
        }
    }
}
