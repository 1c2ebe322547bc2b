import Testing
@testable import Imaging

@Suite("DecodedImage")
struct DecodedImageTests {
    @Test("in-memory images are validated against their dimensions and mode")
    func validatesLayout() {
        #expect(DecodedImage(width: 2, height: 2, mode: .rgb, samples: .uint8([UInt8](repeating: 0, count: 12))) != nil)
        #expect(DecodedImage(width: 2, height: 2, mode: .rgb, samples: .uint8([UInt8](repeating: 0, count: 11))) == nil)
        #expect(DecodedImage(width: 0, height: 2, mode: .gray, samples: .uint8([])) == nil)
        #expect(DecodedImage(width: 2, height: 1, mode: .gray16, samples: .uint8([0, 0])) == nil)
        #expect(DecodedImage(width: 2, height: 1, mode: .gray, samples: .uint16([0, 0])) == nil)
        #expect(DecodedImage(width: 2, height: 1, mode: .bilevel, samples: .uint8([0, 1])) == nil)
        #expect(DecodedImage(width: 2, height: 1, mode: .gray, samples: .uint8([0, 1]), palette: [1, 2, 3]) == nil)
    }

    @Test("palette images need every index inside the palette")
    func validatesPaletteIndices() {
        let palette: [UInt8] = [0, 0, 0, 255, 255, 255]
        #expect(DecodedImage(width: 2, height: 1, mode: .palette, samples: .uint8([0, 1]), palette: palette) != nil)
        #expect(DecodedImage(width: 2, height: 1, mode: .palette, samples: .uint8([0, 2]), palette: palette) == nil)
        #expect(DecodedImage(width: 2, height: 1, mode: .palette, samples: .uint8([0, 0]), palette: []) == nil)
    }
}
