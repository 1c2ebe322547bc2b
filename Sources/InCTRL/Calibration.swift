/// What a prompt set's normal images say about the scores it gives: each normal image
/// scored as a query, from which the set's thresholds are derived.
///
/// The shots are scored leave-one-out: shot k against a set of the other K − 1, exactly as
/// registering those K − 1 and scoring shot k would. Extra calibration images are scored
/// against the whole set, like any query. Leave-one-out is conservative: each shot meets one
/// normal sample fewer than a real query does, so its score is, if anything, higher than a
/// new normal image's would be, and the threshold drawn from it errs towards passing normal
/// parts rather than rejecting them.
public struct Calibration: Sendable, Equatable {
    /// One normal image as scored.
    public struct Observation: Sendable, Equatable {
        /// Its anomaly score.
        public let score: Float
        /// Its patch residual map, row-major.
        public let residualMap: [Float]

        public init(score: Float, residualMap: [Float]) {
            self.score = score
            self.residualMap = residualMap
        }
    }

    /// The shots, leave-one-out, in shot order; empty for a set of one shot.
    public let shots: [Observation]
    /// The calibration images, against the whole set, in the order received.
    public let extra: [Observation]

    /// The name of the rule ``imageThreshold(margin:)`` applies, as responses report it.
    public static let method = "max_plus_margin_std"

    public init(shots: [Observation], extra: [Observation]) {
        self.shots = shots
        self.extra = extra
    }

    /// Every normal observation: the shots, then the calibration images.
    public var observations: [Observation] { shots + extra }

    /// The normal scores, shots first.
    public var scores: [Float] { observations.map(\.score) }

    /// The decision threshold: the largest normal score plus `margin` standard deviations
    /// (population) of the normal scores, at most 1; nil without any normal score (a set of
    /// one shot and no calibration images).
    public func imageThreshold(margin: Double) -> Float? {
        Self.maxPlusMargin(scores, margin: margin).map { min(1, $0) }
    }

    /// The pixel threshold for regions: the same rule over every patch residual of every
    /// normal residual map, so that the normal images themselves show no region.
    public func pixelThreshold(margin: Double) -> Float? {
        Self.maxPlusMargin(observations.flatMap(\.residualMap), margin: margin)
    }

    /// `max(values) + margin · σ(values)`, σ the population standard deviation, computed in
    /// double precision; nil for no values.
    static func maxPlusMargin(_ values: [Float], margin: Double) -> Float? {
        guard let largest = values.max() else { return nil }
        let count = Double(values.count)
        let mean = values.reduce(0) { $0 + Double($1) } / count
        let variance = values.reduce(0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / count
        return Float(Double(largest) + margin * variance.squareRoot())
    }
}
