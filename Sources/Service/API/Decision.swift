/// Pass or reject: `anomalous = score > threshold`, with the threshold used and where it
/// came from. Without any threshold (a one-shot set with no calibration images, and none
/// set by hand or in the request) there is no decision: `anomalous` and `threshold` are null.
public struct Decision: Encodable, Equatable, Sendable {
    /// Where a threshold comes from, most specific first.
    public enum Source: String, Encodable, Sendable {
        /// The request's `threshold` parameter.
        case request
        /// The set's manual threshold (`PUT /prompts/{id}/threshold`).
        case manual
        /// The set's calibration from normal images.
        case calibrated
        /// No threshold at all.
        case none
    }

    /// `score > threshold`; nil without a threshold.
    public let anomalous: Bool?
    /// The threshold used.
    public let threshold: Float?
    /// Where it came from.
    public let source: Source

    /// The decision on `score` against `threshold` from `source` (none without a threshold).
    public init(score: Float, threshold: Float?, source: Source) {
        self.threshold = threshold
        self.source = threshold == nil ? .none : source
        anomalous = threshold.map { score > $0 }
    }

    /// The decision on `score` with the most specific threshold there is.
    init(score: Float, threshold: ThresholdChoice) {
        self.threshold = threshold.value
        source = threshold.source
        anomalous = threshold.value.map { score > $0 }
    }

    enum CodingKeys: String, CodingKey { case anomalous, threshold, source }

    // `null` rather than an absent key: a client reads the same shape every time.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(anomalous, forKey: .anomalous)
        try container.encode(threshold, forKey: .threshold)
        try container.encode(source, forKey: .source)
    }
}
