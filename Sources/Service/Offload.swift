/// Runs CPU-bound `work` (image decoding, pictures) on ``OffloadPool/shared``: off the HTTP
/// event loops and Swift's cooperative threads, at a priority below the forward passes'.
func offload<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
    try await withCheckedThrowingContinuation { continuation in
        OffloadPool.shared.submit {
            continuation.resume(with: Swift.Result { try work() })
        }
    }
}
