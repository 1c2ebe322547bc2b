import Dispatch

/// Runs CPU-bound `work` (image decoding) on a global queue, off the HTTP event loops and
/// Swift's cooperative threads.
func offload<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async {
            continuation.resume(with: Swift.Result { try work() })
        }
    }
}
