import Dispatch
import Foundation
import Synchronization
import Tensor

/// The one shared owner of the model: every forward pass goes through it.
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
/// cannot). The actor is pure compute: it keeps no prompt set, feature or text prior;
/// the service's prompt-set registry owns those.
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
    private let depth = Atomic<Int>(0)
    private let completed = Atomic<Int>(0)

    /// Owns `model`, admitting at most `capacity` (≥ 1) concurrent requests.
    public init(model: InCTRLModel, capacity: Int) {
        self.model = model
        self.capacity = max(1, capacity)
    }

    /// Requests waiting or running now.
    public nonisolated var queueDepth: Int { depth.load(ordering: .relaxed) }

    /// Pieces of work (forward passes, text priors) run to completion so far.
    public nonisolated var completedWork: Int { completed.load(ordering: .relaxed) }

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

    /// Computes a prompt set's features and its shots' leave-one-out scores.
    public func promptSetFeatures(
        images: [Tensor], leaveOneOutWith textPrior: TextPrior
    ) async throws -> (result: (features: PromptSetFeatures, leaveOneOut: [InCTRLScore]), timing: Timing) {
        let model = self.model
        return try await run { () throws(InCTRLError) in try model.promptSetFeatures(images: images, leaveOneOutWith: textPrior) }
    }

    /// Scores normalised images against a prompt set, in order, as one piece of work that
    /// holds a place in the queue for each image (refused whole when they do not all fit).
    /// Each result is what scoring the image alone gives: images are scored one by one.
    public func score(
        images: [Tensor], promptSet: PromptSetFeatures, textPrior: TextPrior
    ) async throws -> (result: [InCTRLScore], timing: Timing) {
        let model = self.model
        return try await run(slots: images.count) { () throws(InCTRLError) in
            var results: [InCTRLScore] = []
            for image in images { results.append(try model.score(image: image, promptSet: promptSet, textPrior: textPrior)) }
            return results
        }
    }

    /// Computes the text prior of `className` (242 prompts through the text tower).
    public func textPrior(className: String) async throws -> (result: TextPrior, timing: Timing) {
        let model = self.model
        return try await run { () throws(InCTRLError) in try model.textPrior(className: className) }
    }

    /// Runs `work` on the compute thread once admitted; see the type's documentation.
    /// Work standing for several queries (a batch) takes `slots` places in the queue, all
    /// or none.
    public func run<Result: Sendable>(
        slots: Int = 1, _ work: @escaping @Sendable () throws(InCTRLError) -> Result
    ) async throws -> (result: Result, timing: Timing) {
        let admitted = depth.add(slots, ordering: .relaxed).newValue
        defer { depth.subtract(slots, ordering: .relaxed) }
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
                        self.completed.add(1, ordering: .relaxed)
                        continuation.resume(returning: (result, Timing(
                            queue: Duration.between(admittedAt, started).inSeconds, compute: Duration.between(started, finished).inSeconds)))
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
