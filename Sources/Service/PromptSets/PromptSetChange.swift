/// A change to the stored prompt sets made by another process sharing the store (another
/// replica over the same database), as the store reports it to ``PromptSetRegistry``.
public enum PromptSetChange: Sendable, Equatable {
    /// The set was registered.
    case created(PromptSetID)
    /// The set was deleted.
    case deleted(PromptSetID)
    /// The set's record changed: its manual threshold or its calibration images.
    case changed(PromptSetID)
    /// Changes may have been missed (the store lost its connection and got it back): every
    /// set should be compared with the store again.
    case resynchronize
}
