/// The threshold a decision uses: the request's, else the set's manual one, else the
/// calibrated one, else none.
struct ThresholdChoice: Equatable {
    let value: Float?
    let source: Decision.Source

    /// The set's own threshold (no request override).
    init(summary: PromptSetRegistry.Summary, margin: Double) {
        self.init(summary: summary, requested: nil, margin: margin)
    }

    init(entry: PromptSetRegistry.Entry, requested: Float?, margin: Double) {
        self.init(summary: entry.summary, requested: requested, margin: margin)
    }

    init(summary: PromptSetRegistry.Summary, requested: Float?, margin: Double) {
        if let requested {
            (value, source) = (requested, .request)
        } else if let manual = summary.record.manualThreshold {
            (value, source) = (manual, .manual)
        } else if let calibrated = summary.calibration.imageThreshold(margin: margin) {
            (value, source) = (calibrated, .calibrated)
        } else {
            (value, source) = (nil, .none)
        }
    }
}
