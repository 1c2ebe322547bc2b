import Synchronization

/// Where a family lives in its registry.
struct FamilyHandle: Sendable {
    let registry: PrometheusRegistry
    let index: Int
    let name: String
    let labelCount: Int
}
