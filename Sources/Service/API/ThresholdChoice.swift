/// The threshold a decision uses: the request's, else the set's manual one, else the
/// calibrated one, else none.
struct ThresholdChoice: Equatable {
    let value: Float?
    let source: Decision.Source

    /// The set's own threshold (no request override).
    init(entry: PromptSetRegistry.Entry, margin: Double) {
        self.init(entry: entry, requested: nil, margin: margin)
    }

    init(entry: PromptSetRegistry.Entry, requested: Float?, margin: Double) {
        if let requested {
            (value, source) = (requested, .request)
        } else if let manual = entry.record.manualThreshold {
            (value, source) = (manual, .manual)
        } else if let calibrated = entry.calibration.imageThreshold(margin: margin) {
            (value, source) = (calibrated, .calibrated)
        } else {
            (value, source) = (nil, .none)
        }
    }
}
