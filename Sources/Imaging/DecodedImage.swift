/// A decoded image in the mode its file declared, before any resizing or colour conversion.
///
/// Keeping the original mode matters: the reference pipeline resizes a grey image as grey and
/// a palette image by its indices, and only converts to RGB after the crop.
public struct DecodedImage: Sendable {
    /// Width in pixels (at least 1).
    public let width: Int
    /// Height in pixels (at least 1).
    public let height: Int
    /// Sample layout; see `PixelMode`.
    public let mode: PixelMode
    /// The samples, row-major and interleaved, `mode.channels` per pixel.
    public let samples: Samples
    /// For `.palette` images: the colour table as RGB triples (at most 256 entries, every
    /// index in `samples` is below `palette.count / 3`). Empty for other modes.
    public let palette: [UInt8]
    /// The format the image was decoded from, or `nil` for images built in memory.
    public let format: ImageFormat?

    /// Sample storage: one byte per sample, or one 16-bit word for `.gray16`.
    public enum Samples: Sendable, Equatable {
        case uint8([UInt8])
        case uint16([UInt16])
    }

    /// An image built from samples in memory; `nil` when the buffer sizes do not match the
    /// dimensions and mode, or a palette index is out of range.
    public init?(width: Int, height: Int, mode: PixelMode, samples: Samples, palette: [UInt8] = []) {
        guard width > 0, height > 0, width.multipliedReportingOverflow(by: height).overflow == false
        else { return nil }
        let count = width * height * mode.channels
        switch (mode, samples) {
        case (.gray16, .uint16(let words)) where words.count == count:
            break
        case (.palette, .uint8(let bytes)) where bytes.count == count:
            guard palette.count % 3 == 0, (3...768).contains(palette.count),
                  let highest = bytes.max(), Int(highest) < palette.count / 3
            else { return nil }
        case (.bilevel, .uint8(let bytes)) where bytes.count == count:
            guard bytes.allSatisfy({ $0 == 0 || $0 == 255 }) else { return nil }
        case (let other, .uint8(let bytes)) where other != .gray16 && other != .palette && bytes.count == count:
            break
        default:
            return nil
        }
        guard mode == .palette || palette.isEmpty else { return nil }
        self.init(validatedWidth: width, height: height, mode: mode, samples: samples, palette: palette, format: nil)
    }

    init(validatedWidth width: Int, height: Int, mode: PixelMode, samples: Samples, palette: [UInt8], format: ImageFormat?) {
        self.width = width
        self.height = height
        self.mode = mode
        self.samples = samples
        self.palette = palette
        self.format = format
    }
}
