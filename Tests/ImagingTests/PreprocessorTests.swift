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
