/// Bounds on the prompt sets the registry accepts, so that one client cannot fill the disk
/// or memory. Checked once, by ``PromptSetRegistry``, before any work is done for a set.
public struct PromptSetLimits: Sendable, Equatable {
    /// The most prompt sets held at once; registering one more fails with
    /// ``PromptSetRegistryError/full(limit:)``.
    public var maxSets: Int
    /// The most images in one set. InCTRL is evaluated with 2, 4 and 8 shots.
    public var maxImagesPerSet: Int
    /// The largest single image, in bytes, as received.
    public var maxImageBytes: Int
    /// The longest class name, in UTF-8 bytes; the text tower reads at most 77 tokens.
    public var maxClassNameBytes: Int
    /// The most calibration images one set keeps.
    public var maxCalibrationImages: Int
    /// The most bytes of prompt-set features kept in memory (``ResidentFeatures``); the
    /// least recently used sets' features are let go beyond it and read again when needed.
    public var featureBytes: Int

    /// Limits with safe defaults: 1000 sets of at most 64 images of at most 32 MiB each,
    /// class names of at most 256 bytes, 64 calibration images per set, and 2 GiB of
    /// features in memory.
    public init(
        maxSets: Int = 1000, maxImagesPerSet: Int = 64, maxImageBytes: Int = 32 << 20, maxClassNameBytes: Int = 256,
        maxCalibrationImages: Int = 64, featureBytes: Int = 2 << 30
    ) {
        self.featureBytes = featureBytes
        self.maxSets = maxSets
        self.maxImagesPerSet = maxImagesPerSet
        self.maxImageBytes = maxImageBytes
        self.maxClassNameBytes = maxClassNameBytes
        self.maxCalibrationImages = maxCalibrationImages
    }

    /// Refuses a class name or an image list these limits do not allow: an empty, overlong
    /// or control-character class name; no images, too many, an empty one or one too large.
    public func validate(className: String, images: [[UInt8]]) throws(PromptSetRegistryError) {
        if className.allSatisfy(\.isWhitespace) {
            throw .invalidClassName("it is empty")
        }
        if className.utf8.count > maxClassNameBytes {
            throw .invalidClassName("it is \(className.utf8.count) bytes long; the limit is \(maxClassNameBytes)")
        }
        if className.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw .invalidClassName("it contains control characters")
        }
        guard images.count <= maxImagesPerSet else {
            throw .tooManyImages(count: images.count, limit: maxImagesPerSet)
        }
        try validate(images: images)
    }

    /// Refuses an image list with no image, an empty image or one too large.
    public func validate(images: [[UInt8]]) throws(PromptSetRegistryError) {
        guard !images.isEmpty else { throw .noImages }
        for (index, image) in images.enumerated() {
            guard !image.isEmpty else { throw .emptyImage(index: index) }
            guard image.count <= maxImageBytes else {
                throw .imageTooLarge(index: index, bytes: image.count, limit: maxImageBytes)
            }
        }
    }
}
