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
/// Queries are batched dynamically (``Batching``): when the compute thread takes a query it
/// also takes every query waiting behind it, up to `maxBatch`, whatever their prompt sets,
/// and runs their vision forwards as one stacked forward; the residual matching and heads
/// then run per query against its own set. A result never depends on what else was queued:
/// the stacked forward gives each image the bits it gets alone (see
/// `VisionTower.encode(_:tapLayers:)`). The actor is pure compute: it keeps no prompt set,
/// feature or text prior; the service's prompt-set registry owns those.
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
        /// Compute itself (for a query, the stacked forward of its batch and its own heads).
        public let compute: Double
        /// The most queries in one stacked vision forward among this request's (1 when it ran
        /// alone, or was no query).
        public let batchSize: Int

        init(queue: Double, compute: Double, batchSize: Int = 1) {
            self.queue = queue
            self.compute = compute
            self.batchSize = batchSize
        }
    }

    /// How queries are gathered into one vision forward.
    public struct Batching: Sendable, Equatable {
        /// The most queries in one stacked forward; 1 runs each alone.
        public var maxBatch: Int
        /// How long the compute thread waits for more queries once it has taken one; zero
        /// (the default) takes only those already waiting and never waits.
        public var window: Duration

        public init(maxBatch: Int = 8, window: Duration = .zero) {
            self.maxBatch = maxBatch
            self.window = window
        }
    }

    /// The loaded model.
    public nonisolated let model: InCTRLModel
    /// The most requests waiting or running at once.
    public nonisolated let capacity: Int
    /// How queries are batched.
    public nonisolated let batching: Batching

    private let computeThread: ComputeThread<QueryJob>
    private let depth = Atomic<Int>(0)
    private let completed: WorkCounter

    /// Owns `model`, admitting at most `capacity` (≥ 1) concurrent requests and batching
    /// queries as `batching` says. `onBatch` is called on the compute thread with the size of
    /// every stacked vision forward, before it runs.
    public init(
        model: InCTRLModel, capacity: Int, batching: Batching = Batching(), onBatch: (@Sendable (Int) -> Void)? = nil
    ) {
        self.model = model
        self.capacity = max(1, capacity)
        let batching = Batching(maxBatch: max(1, batching.maxBatch), window: max(.zero, batching.window))
        self.batching = batching
        let completed = WorkCounter()
        self.completed = completed
        computeThread = ComputeThread(
            name: "inctrl-compute", batching: .init(maxBatch: batching.maxBatch, window: batching.window)
        ) { jobs in
            QueryJob.run(jobs, model: model, completed: completed, onBatch: onBatch)
        }
    }

    /// Requests waiting or running now.
    public nonisolated var queueDepth: Int { depth.load(ordering: .relaxed) }

    /// Queries queued on the compute thread and not yet taken into a batch.
    public nonisolated var waitingQueries: Int { computeThread.waitingMembers }

    /// Pieces of work (forward passes, text priors) run to completion so far.
    public nonisolated var completedWork: Int { completed.value }

    /// Name, precision and demo flag of the model.
    public nonisolated var info: ModelInfo { model.info }

    /// Scores a normalised image against a prompt set, batched with the queries waiting
    /// beside it.
    public func score(
        image: Tensor, promptSet: PromptSetFeatures, textPrior: TextPrior
    ) async throws -> (result: InCTRLScore, timing: Timing) {
        let (results, timing) = try await query([image], promptSet: promptSet, textPrior: textPrior)
        return (results[0], timing)
    }

    /// Computes a prompt set's cached features from its normalised images, their vision
    /// forwards stacked up to `batching.maxBatch` at a time.
    public func promptSetFeatures(images: [Tensor]) async throws -> (result: PromptSetFeatures, timing: Timing) {
        let (model, batchSize) = (self.model, batching.maxBatch)
        return try await run { () throws(InCTRLError) in try model.promptSetFeatures(images: images, batchSize: batchSize) }
    }

    /// Computes a prompt set's features and its shots' leave-one-out scores, the forwards
    /// stacked as in ``promptSetFeatures(images:)``.
    public func promptSetFeatures(
        images: [Tensor], leaveOneOutWith textPrior: TextPrior
    ) async throws -> (result: (features: PromptSetFeatures, leaveOneOut: [InCTRLScore]), timing: Timing) {
        let (model, batchSize) = (self.model, batching.maxBatch)
        return try await run { () throws(InCTRLError) in
            try model.promptSetFeatures(images: images, leaveOneOutWith: textPrior, batchSize: batchSize)
        }
    }

    /// Scores normalised images against a prompt set, in order. The images hold a place in
    /// the queue each (refused whole when they do not all fit) and are queued as separate
    /// queries at once, so they are batched with each other and with other requests' queries
    /// exactly as single queries are. Each result is what scoring the image alone gives.
    public func score(
        images: [Tensor], promptSet: PromptSetFeatures, textPrior: TextPrior
    ) async throws -> (result: [InCTRLScore], timing: Timing) {
        guard !images.isEmpty else { return ([], Timing(queue: 0, compute: 0, batchSize: 0)) }
        return try await query(images, promptSet: promptSet, textPrior: textPrior)
    }

    /// Computes the text prior of `className` (242 prompts through the text tower).
    public func textPrior(className: String) async throws -> (result: TextPrior, timing: Timing) {
        let model = self.model
        return try await run { () throws(InCTRLError) in try model.textPrior(className: className) }
    }

    /// Admits `images` (one slot each, all or none), queues each as a query and waits for
    /// all of them. Cancelling the task drops those not yet started; a failure of any is the
    /// failure of all, reported once every query has finished.
    private func query(
        _ images: [Tensor], promptSet: PromptSetFeatures, textPrior: TextPrior
    ) async throws -> (result: [InCTRLScore], timing: Timing) {
        let slots = images.count
        return try await admitted(slots: slots) {
            let cancellation = CancellableJob()
            let admittedAt = DispatchTime.now()
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(result: [InCTRLScore], timing: Timing), Error>) in
                    let group = QueryGroup(count: slots, admittedAt: admittedAt, continuation: continuation)
                    for (index, image) in images.enumerated() {
                        computeThread.submit(member: QueryJob(
                            image: image, promptSet: promptSet, textPrior: textPrior, cancellation: cancellation, group: group,
                            index: index))
                    }
                }
            } onCancel: {
                cancellation.cancel()
            }
        }
    }

    /// Runs `work` on the compute thread once admitted; see the type's documentation.
    /// Work standing for several queries (a batch) takes `slots` places in the queue, all
    /// or none.
    public func run<Result: Sendable>(
        slots: Int = 1, _ work: @escaping @Sendable () throws(InCTRLError) -> Result
    ) async throws -> (result: Result, timing: Timing) {
        return try await admitted(slots: slots) {
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
                            self.completed.add(1)
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
}

extension ModelActor {
    /// Runs `body` holding `slots` places in the queue, taken all or none (beyond `capacity`
    /// it throws `queueFull` without running it) and given back when it returns.
    private func admitted<Result>(slots: Int, _ body: () async throws -> Result) async throws -> Result {
        let admitted = depth.add(slots, ordering: .relaxed).newValue
        defer { depth.subtract(slots, ordering: .relaxed) }
        guard admitted <= capacity else { throw AdmissionError.queueFull(capacity: capacity) }
        return try await body()
    }
}

/// A flag a waiting job checks before it computes.
private final class CancellableJob: Sendable {
    private let cancelled = Atomic<Bool>(false)
    var isCancelled: Bool { cancelled.load(ordering: .acquiring) }
    func cancel() { cancelled.store(true, ordering: .releasing) }
}

/// Pieces of work finished, shared with the compute thread.
private final class WorkCounter: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .relaxed) }
    func add(_ amount: Int) { count.add(amount, ordering: .relaxed) }
}

/// One queued query: an image to run through the vision tower and the set to score it
/// against.
private final class QueryJob: Sendable {
    let image: Tensor
    let promptSet: PromptSetFeatures
    let textPrior: TextPrior
    let cancellation: CancellableJob
    let group: QueryGroup
    /// Its place among its request's images.
    let index: Int

    init(image: Tensor, promptSet: PromptSetFeatures, textPrior: TextPrior, cancellation: CancellableJob, group: QueryGroup, index: Int) {
        self.image = image
        self.promptSet = promptSet
        self.textPrior = textPrior
        self.cancellation = cancellation
        self.group = group
        self.index = index
    }

    /// Runs a gathered batch on the compute thread: cancelled queries are dropped, the rest
    /// go through one stacked vision forward, then each is scored against its own set. An
    /// image of the wrong shape runs alone, so its error is its own.
    static func run(
        _ jobs: [QueryJob], model: InCTRLModel, completed: WorkCounter, onBatch: (@Sendable (Int) -> Void)?
    ) {
        var live: [QueryJob] = []
        for job in jobs {
            if job.cancellation.isCancelled {
                job.group.finish(job.index, .failure(CancellationError()), started: .now(), batchSize: 0)
            } else {
                live.append(job)
            }
        }
        guard !live.isEmpty else { return }
        let started = DispatchTime.now()
        let shape = model.vision.imageShape
        let stacked = live.filter { $0.image.shape == shape }
        var features: Result<[ImageFeatures], InCTRLError> = .success([])
        if !stacked.isEmpty {
            onBatch?(stacked.count)
            features = Result { () throws(InCTRLError) in try model.imageFeatures(stacked.map(\.image)) }
        }
        var next = 0
        for job in live {
            let result: Result<InCTRLScore, InCTRLError>
            var batchSize = 1
            if job.image.shape == shape {
                batchSize = stacked.count
                result = features.flatMap { all in
                    Result { () throws(InCTRLError) in
                        try model.score(features: all[next], promptSet: job.promptSet, textPrior: job.textPrior)
                    }
                }
                next += 1
            } else {
                result = Result { () throws(InCTRLError) in
                    try model.score(image: job.image, promptSet: job.promptSet, textPrior: job.textPrior)
                }
            }
            if case .success = result { completed.add(1) }
            job.group.finish(job.index, result.mapError { $0 as Error }, started: started, batchSize: batchSize)
        }
    }
}

/// The queries of one request, collected until the last one finishes.
private final class QueryGroup: Sendable {
    private struct State {
        var results: [Result<InCTRLScore, Error>?]
        var remaining: Int
        var firstStart: DispatchTime?
        var largestBatch = 0
    }

    private let admittedAt: DispatchTime
    private let continuation: CheckedContinuation<(result: [InCTRLScore], timing: ModelActor.Timing), Error>
    private let state: Mutex<State>

    init(count: Int, admittedAt: DispatchTime, continuation: CheckedContinuation<(result: [InCTRLScore], timing: ModelActor.Timing), Error>) {
        self.admittedAt = admittedAt
        self.continuation = continuation
        state = Mutex(State(results: Array(repeating: nil, count: count), remaining: count))
    }

    /// Records query `index`'s result; the last one resumes the request.
    func finish(_ index: Int, _ result: Result<InCTRLScore, Error>, started: DispatchTime, batchSize: Int) {
        let finished = DispatchTime.now()
        let done = state.withLock { state -> State? in
            state.results[index] = result
            state.remaining -= 1
            if batchSize > 0 {
                state.firstStart = min(state.firstStart ?? started, started)
                state.largestBatch = max(state.largestBatch, batchSize)
            }
            return state.remaining == 0 ? state : nil
        }
        guard let done else { return }
        var scores: [InCTRLScore] = []
        for result in done.results {
            switch result {
            case let .success(score): scores.append(score)
            case let .failure(error):
                continuation.resume(throwing: error)
                return
            case nil: preconditionFailure("a query finished twice")
            }
        }
        let start = done.firstStart ?? finished
        continuation.resume(returning: (scores, ModelActor.Timing(
            queue: Duration.between(admittedAt, start).inSeconds, compute: Duration.between(start, finished).inSeconds,
            batchSize: max(1, done.largestBatch))))
    }
}
