import Testing
@testable import Imaging

@Suite("DecodedImage.rgb8")
struct DecodedImageRGB8Tests {
    @Test("every mode converts at full size as Pillow's convert('RGB')")
    func convertsEveryMode() throws {
        let gray = try #require(DecodedImage(width: 2, height: 1, mode: .gray, samples: .uint8([7, 200])))
        #expect(gray.rgb8().pixels == [7, 7, 7, 200, 200, 200])

        let palette = try #require(DecodedImage(
            width: 3, height: 1, mode: .palette, samples: .uint8([1, 0, 1]), palette: [10, 20, 30, 40, 50, 60]))
        #expect(palette.rgb8().pixels == [40, 50, 60, 10, 20, 30, 40, 50, 60])

        let rgba = try #require(DecodedImage(width: 1, height: 2, mode: .rgba, samples: .uint8([1, 2, 3, 0, 4, 5, 6, 255])))
        #expect(rgba.rgb8().pixels == [1, 2, 3, 4, 5, 6])

        // cmyk2rgb: each channel is (255 − K) − ink·(255 − K)/255, rounded.
        let cmyk = try #require(DecodedImage(width: 1, height: 1, mode: .cmyk, samples: .uint8([0, 255, 128, 64])))
        #expect(cmyk.rgb8().pixels == [191, 0, 95])
    }

    @Test("16-bit grey is scaled by round(v / 257) at full size too")
    func sixteenBitGrayIsScaled() throws {
        let image = try #require(DecodedImage(width: 3, height: 1, mode: .gray16, samples: .uint16([128, 129, 65_535])))
        let rgb = image.rgb8()
        #expect(rgb.width == 3 && rgb.height == 1)
        #expect(rgb.pixels == [0, 0, 0, 1, 1, 1, 255, 255, 255])
    }
}
