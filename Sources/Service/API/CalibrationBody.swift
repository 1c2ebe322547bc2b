import InCTRL
/// A set's calibration as the API shows it: the normal scores (the shots leave-one-out, then
/// the calibration images) and the threshold they give.
struct CalibrationBody: Encodable {
    let scores: [Float]
    /// `max(scores) + margin · σ(scores)`, at most 1; null without any score.
    let threshold: Float?
    /// The patch-residual level above which a region is outlined; null without any score.
    let pixelThreshold: Float?
    let method: String
    let margin: Double
    /// How many normal images were scored.
    let count: Int
    /// How many of them are calibration images sent after registration.
    let extraImages: Int

    enum CodingKeys: String, CodingKey {
        case scores, threshold, method, margin, count
        case pixelThreshold = "pixel_threshold"
        case extraImages = "extra_images"
    }

    init(_ calibration: Calibration, margin: Double) {
        scores = calibration.scores
        threshold = calibration.imageThreshold(margin: margin)
        pixelThreshold = calibration.pixelThreshold(margin: margin)
        method = Calibration.method
        self.margin = margin
        count = calibration.observations.count
        extraImages = calibration.extra.count
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(scores, forKey: .scores)
        try container.encode(threshold, forKey: .threshold)
        try container.encode(pixelThreshold, forKey: .pixelThreshold)
        try container.encode(method, forKey: .method)
        try container.encode(margin, forKey: .margin)
        try container.encode(count, forKey: .count)
        try container.encode(extraImages, forKey: .extraImages)
    }
}
