import Dispatch
import Imaging
import Tensor

/// Encoded image bytes → the normalised `[3, 240, 240]` tensor the model takes
/// (decode, then the Pillow-exact test-time pre-processing), with the time of each step.
public struct ImagePipeline: Sendable {
    /// A prepared image and what preparing it cost.
    public struct Prepared: Sendable {
        /// `[3, size, size]`, normalised.
        public let tensor: Tensor
        /// The image as decoded, at its original size (what heat-maps are drawn over).
        public let decoded: DecodedImage
        /// Seconds spent decoding.
        public let decodeSeconds: Double
        /// Seconds spent resizing, cropping, converting and normalising.
        public let preprocessSeconds: Double
    }

    /// Decoder limits (pixels, encoded size, metadata).
    public let limits: ImageLimits
    /// The resize/crop/normalise steps.
    public let preprocessor: Preprocessor

    /// A pipeline for the model's input size.
    public init(limits: ImageLimits = ImageLimits(), preprocessor: Preprocessor = .inctrl) {
        self.limits = limits
        self.preprocessor = preprocessor
    }

    /// Decodes and pre-processes one encoded PNG or JPEG.
    public func prepare(_ bytes: [UInt8]) throws(ImageDecodeError) -> Prepared {
        let start = DispatchTime.now()
        let decoded = try ImageDecoder.decode(bytes, limits: limits)
        let decodedAt = DispatchTime.now()
        let scalars = preprocessor.tensor(decoded)
        let size = preprocessor.size
        let finished = DispatchTime.now()
        // The preprocessor always returns exactly 3·size·size scalars.
        let tensor = try! Tensor(shape: [3, size, size], scalars: scalars)
        return Prepared(
            tensor: tensor, decoded: decoded,
            decodeSeconds: Duration.between(start, decodedAt).inSeconds,
            preprocessSeconds: Duration.between(decodedAt, finished).inSeconds)
    }
}
