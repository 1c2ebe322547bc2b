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

    /// Why the entry was discarded; nil for a hit or a miss.
    public var discardedReason: String? {
        if case let .discarded(reason) = self { reason } else { nil }
    }
}
