/// The outcome of looking up a derived feature in a store.
public enum FeatureLookup<Value: Sendable>: Sendable {
    /// A verified entry.
    case hit(Value)
    /// No entry.
    case miss
    /// An entry that failed verification; it has been deleted, and the caller recomputes.
    case discarded(reason: String)

    /// The value of a hit.
    public var value: Value? {
        if case let .hit(value) = self { value } else { nil }
    }
}
