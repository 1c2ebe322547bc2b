import Testing
@testable import Imaging

@Suite("Preprocessor")
struct PreprocessorTests {
    @Test("the corpus manifest is present and complete")
    func corpusIsPresent() throws {
        let manifest = try #require(Corpus.manifest)
        #expect(manifest.size == 240)
        #expect(manifest.cases.count >= 70)
    }

    @Test("rgb8 is byte-equal to Pillow + torchvision", arguments: Corpus.cases)
    func matchesPillow(_ testCase: Corpus.Case) throws {
        let image = try Corpus.decode(testCase.input)
        let rgb = Preprocessor.inctrl.rgb8(image)
        let expected = try Corpus.expectedRGB(testCase)
        #expect(rgb.width == 240 && rgb.height == 240)
        let differing = zip(rgb.pixels, expected).filter { $0 != $1 }.count
        let largest = zip(rgb.pixels, expected).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(differing == 0, "\(differing) of \(expected.count) bytes differ (largest difference \(largest)) — \(testCase.note)")
    }
}

@Suite("Preprocessor tensor")
struct PreprocessorTensorTests {
    @Test("normalisation equals torchvision ToTensor + Normalize for every byte value")
    func normalisationMatchesTorchvision() throws {
        let reference = try Corpus.floats("tensor_lut.f32")
        try #require(reference.count == 3 * 256)
        // The fixture is torchvision's output for a 16×16 image whose pixel i is (i, i, i).
        let ramp = try #require(RGB8Image(width: 16, height: 16, pixels: (0..<256).flatMap { [UInt8($0), UInt8($0), UInt8($0)] }))
        let tensor = Preprocessor.inctrl.tensor(from: ramp)
        let largest = zip(tensor, reference).map { abs($0 - $1) }.max() ?? .infinity
        #expect(largest <= 1e-6)
        #expect(tensor == reference, "not bit-identical; largest difference \(largest)")
    }

    @Test("the whole pipeline at another size equals torchvision's tensor")
    func wholePipelineMatchesTorchvision() throws {
        let manifest = try #require(Corpus.manifest)
        let reference = try Corpus.floats("tensor_64_\(manifest.tensorCase).f32")
        let image = try Corpus.decode("inputs/\(manifest.tensorCase).jpg")
        let tensor = try Preprocessor(size: 64).tensor(image)
        #expect(tensor.count == 3 * 64 * 64)
        let largest = zip(tensor, reference).map { abs($0 - $1) }.max() ?? .infinity
        #expect(largest <= 1e-6, "largest difference \(largest)")
    }

    @Test("the tensor is channel-major: all red values, then green, then blue")
    func tensorLayoutIsCHW() throws {
        let pixels: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]
        let image = try #require(RGB8Image(width: 2, height: 2, pixels: pixels))
        let tensor = Preprocessor.inctrl.tensor(from: image)
        let high = (1 - Float(0.48145466)) / Float(0.26862954)
        #expect(tensor[0] == high && tensor[3] == high)
        #expect(tensor[1] < 0 && tensor[2] < 0)
        #expect(tensor[4 + 1] == (1 - Float(0.4578275)) / Float(0.26130258))
        #expect(tensor[8 + 2] == (1 - Float(0.40821073)) / Float(0.27577711))
    }

    @Test("16-bit grey made by multiplying an 8-bit image by 257 gives the same tensor")
    func sixteenBitGrayEqualsEightBit() throws {
        let eight = try Corpus.decode("inputs/png_gray8_239x241.png")
        let sixteen = try Corpus.decode("inputs/png_gray16_x257_239x241.png")
        #expect(sixteen.mode == .gray16)
        #expect(Preprocessor.inctrl.tensor(sixteen) == Preprocessor.inctrl.tensor(eight))
    }

    @Test("16-bit grey is scaled by round(v / 257), not clipped at 255 as Pillow would")
    func sixteenBitGrayIsScaledNotClipped() throws {
        let words: [UInt16] = [0, 128, 129, 385, 386, 32_896, 65_406, 65_407, 65_535]
        // A 3×3 image at size 3 is not resized, so the crop copies the scaled samples.
        let image = try #require(DecodedImage(width: 3, height: 3, mode: .gray16, samples: .uint16(words)))
        let rgb = try Preprocessor(size: 3).rgb8(image)
        // Python: [round(v / 257) for v in words]
        #expect(stride(from: 0, to: 27, by: 3).map { rgb.pixels[$0] } == [0, 0, 1, 1, 2, 128, 254, 255, 255])
    }

    @Test("configuration is validated", arguments: [0, -1, 8193])
    func rejectsInvalidSize(_ size: Int) {
        #expect(throws: PreprocessorError.invalidSize(size)) { try Preprocessor(size: size) }
    }

    @Test("a zero or non-finite standard deviation is refused")
    func rejectsInvalidNormalisation() {
        #expect(throws: PreprocessorError.invalidNormalisation) {
            try Preprocessor(size: 240, std: SIMD3(0.2, 0, 0.3))
        }
        #expect(throws: PreprocessorError.invalidNormalisation) {
            try Preprocessor(size: 240, mean: SIMD3(.nan, 0, 0))
        }
    }
}
