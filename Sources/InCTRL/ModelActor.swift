import Dispatch
import Foundation
import Synchronization
import Tensor

/// The one shared owner of the model (DESIGN.md §1).
///
/// All forward passes run one at a time on one dedicated thread (``ComputeThread``), never on
/// Swift's cooperative threads, so two cores are never oversubscribed and request handling stays
/// responsive while a forward pass runs. In front of that queue sits a bounded admission
/// count: when `capacity` requests are already waiting or running, new ones are refused at
/// once (the service answers 429) instead of queueing without bound. A request whose task
/// is cancelled while it waits (its client went away) is dropped before it computes.
///
/// Queries are not stacked into one forward pass: each runs alone, so a result never
/// depends on what else was queued (the reference's batch > 1 path mixes images; ours
/// cannot). Text priors are cached per class name.
public actor ModelActor {
    /// Why a request was not computed.
    public enum AdmissionError: Error, Equatable, CustomStringConvertible {
        /// `capacity` requests are already waiting or running.
        case queueFull(capacity: Int)

        public var description: String {
            switch self {
            case let .queueFull(capacity): "the model queue is full (\(capacity) requests waiting or running)"
            }
        }
    }

    /// Seconds spent waiting for and running one request.
    public struct Timing: Sendable, Equatable {
        /// From admission to the start of compute.
        public let queue: Double
        /// Compute itself.
        public let compute: Double
    }

    /// The loaded model.
    public nonisolated let model: InCTRLModel
    /// The most requests waiting or running at once.
    public nonisolated let capacity: Int

    private let computeThread = ComputeThread(name: "inctrl-compute")
    private var textPriors: [String: TextPrior] = [:]
    /// Text priors being computed, so concurrent first requests for a class name share one
    /// computation instead of each running the text tower.
    private var pendingTextPriors: [String: Task<TextPrior, Error>] = [:]
    /// How many text priors this actor has computed (not restored or shared).
    private(set) var textPriorsComputed = 0
    private let depth = Atomic<Int>(0)

    /// Owns `model`, admitting at most `capacity` (≥ 1) concurrent requests.
    public init(model: InCTRLModel, capacity: Int) {
        self.model = model
        self.capacity = max(1, capacity)
    }

    /// Requests waiting or running now.
    public nonisolated var queueDepth: Int { depth.load(ordering: .relaxed) }

    /// Name, precision and demo flag of the model.
    public nonisolated var info: ModelInfo { model.info }

    /// Scores a normalised image against a prompt set.
    public func score(
        image: Tensor, promptSet: PromptSetFeatures, textPrior: TextPrior
    ) async throws -> (result: InCTRLScore, timing: Timing) {
        let model = self.model
        return try await run { () throws(InCTRLError) in
            try model.score(image: image, promptSet: promptSet, textPrior: textPrior)
        }
    }

    /// Computes a prompt set's cached features from its normalised images.
    public func promptSetFeatures(images: [Tensor]) async throws -> (result: PromptSetFeatures, timing: Timing) {
        let model = self.model
        return try await run { () throws(InCTRLError) in try model.promptSetFeatures(images: images) }
    }

    /// The text prior of `className`, computed once per name and then served from memory.
    /// Requests that arrive while it is being computed wait for that computation.
    public func textPrior(className: String) async throws -> TextPrior {
        if let cached = textPriors[className] { return cached }
        if let pending = pendingTextPriors[className] { return try await pending.value }
        let model = self.model
        let computation = Task { () async throws -> TextPrior in
            try await self.run { () throws(InCTRLError) in try model.textPrior(className: className) }.result
        }
        pendingTextPriors[className] = computation
        textPriorsComputed += 1
        do {
            let prior = try await computation.value
            textPriors[className] = prior
            pendingTextPriors[className] = nil
            return prior
        } catch {
            pendingTextPriors[className] = nil
            throw error
        }
    }

    /// Adds a text prior computed earlier (restored from a cache).
    public func cacheTextPrior(_ prior: TextPrior) {
        textPriors[prior.className] = prior
    }

    /// Runs `work` on the compute thread once admitted; see the type's documentation.
    public func run<Result: Sendable>(
        _ work: @escaping @Sendable () throws(InCTRLError) -> Result
    ) async throws -> (result: Result, timing: Timing) {
        let admitted = depth.add(1, ordering: .relaxed).newValue
        defer { depth.subtract(1, ordering: .relaxed) }
        guard admitted <= capacity else { throw AdmissionError.queueFull(capacity: capacity) }

        let job = CancellableJob()
        let admittedAt = DispatchTime.now()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(result: Result, timing: Timing), Error>) in
                computeThread.submit {
                    guard !job.isCancelled else {
                        continuation.resume(throwing: CancellationError())
                        return
                    }
                    let started = DispatchTime.now()
                    do {
                        let result = try work()
                        let finished = DispatchTime.now()
                        continuation.resume(returning: (result, Timing(
                            queue: seconds(from: admittedAt, to: started), compute: seconds(from: started, to: finished))))
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
            }
        } onCancel: {
            job.cancel()
        }
    }
}

/// A flag a waiting job checks before it computes.
private final class CancellableJob: Sendable {
    private let cancelled = Atomic<Bool>(false)
    var isCancelled: Bool { cancelled.load(ordering: .acquiring) }
    func cancel() { cancelled.store(true, ordering: .releasing) }
}

private func seconds(from start: DispatchTime, to end: DispatchTime) -> Double {
    Double(end.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}
