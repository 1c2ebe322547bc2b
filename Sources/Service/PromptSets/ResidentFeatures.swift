import InCTRL

/// The prompt-set features a replica keeps in memory: the most recently used sets' features,
/// within a byte budget (`feature_cache_bytes`). Owned by ``PromptSetRegistry``; a set whose
/// features were let go is loaded again from the store on its next use (or computed again
/// from its images when the store has none for this model), with the same bits.
///
/// With several replicas behind a router that sends each set to one replica, each replica's
/// budget only holds the sets routed to it, so the budget bounds memory per replica however
/// many sets the database holds. The features most recently put or used are kept, even alone
/// beyond the budget: a set larger than the whole budget is still served, just never kept
/// beside another.
struct ResidentFeatures {
    /// Bytes the kept features may take together.
    let capacity: Int
    private var features: [PromptSetID: PromptSetFeatures] = [:]
    /// Ids from least to most recently used.
    private var order: [PromptSetID] = []
    /// Bytes the kept features take.
    private(set) var bytes = 0

    init(capacity: Int) {
        precondition(capacity >= 0, "a feature budget cannot be negative")
        self.capacity = capacity
    }

    /// The number of sets whose features are kept.
    var count: Int { features.count }

    /// The bytes of `features`' floats.
    static func size(of features: PromptSetFeatures) -> Int {
        (features.normalizedTaps.reduce(0) { $0 + $1.scalars.count } + features.prototype.count) * MemoryLayout<Float>.size
    }

    /// The features of `id`, now the most recently used; nil when they are not kept.
    mutating func use(_ id: PromptSetID) -> PromptSetFeatures? {
        guard let found = features[id] else { return nil }
        touch(id)
        return found
    }

    /// Whether the features of `id` are kept (without counting as a use).
    func contains(_ id: PromptSetID) -> Bool { features[id] != nil }

    /// Keeps `value` as the features of `id`, the most recently used, and lets the least
    /// recently used go until the rest fit; returns how many sets were let go.
    @discardableResult
    mutating func put(_ value: PromptSetFeatures, for id: PromptSetID) -> Int {
        remove(id)
        features[id] = value
        order.append(id)
        bytes += Self.size(of: value)
        var evicted = 0
        while bytes > capacity, order.count > 1 {
            remove(order[0])
            evicted += 1
        }
        return evicted
    }

    /// Lets the features of `id` go.
    mutating func remove(_ id: PromptSetID) {
        guard let removed = features.removeValue(forKey: id) else { return }
        bytes -= Self.size(of: removed)
        order.removeAll { $0 == id }
    }

    private mutating func touch(_ id: PromptSetID) {
        if order.last == id { return }
        order.removeAll { $0 == id }
        order.append(id)
    }
}
