/// The test-time pre-processing of CLIP and InCTRL, reproduced to the byte: torchvision's
/// `Resize(size, BICUBIC)` and `CenterCrop(size)` on the image in its decoded mode, then
/// `convert('RGB')`, `ToTensor()` and `Normalize(mean, std)`.
///
/// One deliberate difference from Pillow: 16-bit grey samples are first scaled to 8 bits
/// (`round(v / 257)`) and the image is treated as 8-bit grey, where Pillow would clip them
/// at 255 and turn almost every medical scan white.
public struct Preprocessor: Sendable {
    /// The side of the square output, in pixels.
    public let size: Int
    /// Per-channel mean subtracted after scaling to [0, 1].
    public let mean: SIMD3<Double>
    /// Per-channel standard deviation divided by after subtracting the mean.
    public let std: SIMD3<Double>

    /// The mean OpenAI's CLIP was trained with, used by OpenCLIP and InCTRL.
    public static let clipMean = SIMD3<Double>(0.48145466, 0.4578275, 0.40821073)
    /// The standard deviation OpenAI's CLIP was trained with.
    public static let clipStd = SIMD3<Double>(0.26862954, 0.26130258, 0.27577711)

    /// InCTRL's pipeline: 240 × 240 with CLIP's normalisation.
    public static let inctrl = Preprocessor(validatedSize: 240, mean: clipMean, std: clipStd)

    /// `normalisation[channel * 256 + byte]` is the normalised value of that byte.
    private let normalisation: [Float]

    /// A pipeline for another output size or normalisation.
    public init(size: Int, mean: SIMD3<Double> = clipMean, std: SIMD3<Double> = clipStd) throws(PreprocessorError) {
        guard size > 0, size <= 8192 else { throw .invalidSize(size) }
        guard std.x != 0, std.y != 0, std.z != 0, (0..<3).allSatisfy({ std[$0].isFinite && mean[$0].isFinite }) else {
            throw .invalidNormalisation
        }
        self.init(validatedSize: size, mean: mean, std: std)
    }

    private init(validatedSize size: Int, mean: SIMD3<Double>, std: SIMD3<Double>) {
        self.size = size
        self.mean = mean
        self.std = std
        // torchvision: ToTensor divides the byte by 255 in float32; Normalize subtracts and
        // divides by the float32 conversions of the Python floats. Same operations, same order.
        var table = [Float](repeating: 0, count: 3 * 256)
        for channel in 0..<3 {
            let channelMean = Float(mean[channel])
            let channelStd = Float(std[channel])
            for byte in 0..<256 {
                table[channel * 256 + byte] = (Float(byte) / 255 - channelMean) / channelStd
            }
        }
        normalisation = table
    }

    /// The `size`×`size` RGB image, byte-equal to Pillow's on 8-bit inputs.
    public func rgb8(_ image: DecodedImage) -> RGB8Image {
        let plan = CropPlan(width: image.width, height: image.height, size: size)
        var plane = PixelPlane(width: image.width, height: image.height, channels: image.mode.channels, samples: image.eightBitSamples)
        let cropped: PixelPlane
        switch image.mode {
        case .palette, .bilevel:
            cropped = NearestResampler.resizeAndCrop(plane, plan: plan)
        case .grayAlpha, .rgba:
            if plan.resizes(width: image.width, height: image.height) {
                AlphaPremultiplication.premultiply(&plane)
                var resized = BicubicResampler.resizeAndCrop(plane, plan: plan)
                AlphaPremultiplication.unpremultiply(&resized)
                cropped = resized
            } else {
                cropped = plane.cropped(left: plan.left, top: plan.top, size: size)
            }
        case .gray, .gray16, .rgb, .cmyk:
            cropped = BicubicResampler.resizeAndCrop(plane, plan: plan)
        }
        let rgb = RGBConversion.rgb(from: cropped, mode: image.mode, palette: image.palette)
        return RGB8Image(validatedWidth: size, height: size, pixels: rgb)
    }

    /// The normalised `[3, size, size]` tensor (channel-major, then rows, then columns).
    public func tensor(_ image: DecodedImage) -> [Float] {
        tensor(from: rgb8(image))
    }

    /// Normalises an RGB image into a `[3, height, width]` channel-major tensor.
    public func tensor(from image: RGB8Image) -> [Float] {
        let planeSize = image.width * image.height
        return [Float](unsafeUninitializedCapacity: 3 * planeSize) { output, initialized in
            image.pixels.withUnsafeBufferPointer { pixels in
                normalisation.withUnsafeBufferPointer { table in
                    for channel in 0..<3 {
                        let lookup = table.baseAddress! + channel * 256
                        let destination = output.baseAddress! + channel * planeSize
                        for pixel in 0..<planeSize {
                            destination[pixel] = lookup[Int(pixels[pixel * 3 + channel])]
                        }
                    }
                }
            }
            initialized = 3 * planeSize
        }
    }
}

/// Why a `Preprocessor` could not be configured.
public enum PreprocessorError: Error, Equatable, CustomStringConvertible {
    /// The output size must be between 1 and 8192 pixels.
    case invalidSize(Int)
    /// Every standard deviation must be finite and non-zero, every mean finite.
    case invalidNormalisation

    /// What is wrong with the configuration.
    public var description: String {
        switch self {
        case .invalidSize(let size):
            "pre-processing size \(size) is outside 1...8192 pixels"
        case .invalidNormalisation:
            "normalisation needs finite means and finite, non-zero standard deviations"
        }
    }
}
