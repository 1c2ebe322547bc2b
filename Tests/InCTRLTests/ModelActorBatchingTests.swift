import CLIP
import Foundation
import Synchronization
import Tensor
import Testing
@testable import InCTRL

/// Dynamic batching in the model actor: queued queries run as one stacked vision forward,
/// and each still gets exactly the bits of scoring it alone.
@Suite struct ModelActorBatchingTests {
    /// Two prompt sets of real images, and a text prior for each.
    struct Sets {
        let model: InCTRLModel
        let images: [Tensor]
        let sets: [(PromptSetFeatures, TextPrior)]

        init() throws {
            (model, _) = try InCTRLModelTests.loaded.get()
            images = try BatchedVisionTests.images()
            sets = [
                (try model.promptSetFeatures(images: [images[1], images[4]]), try model.textPrior(className: "solar_cell")),
                (try model.promptSetFeatures(images: [images[7]]), try model.textPrior(className: "photo")),
            ]
        }

        /// Query `index`: image `index % 8` against set `index % 2`.
        func query(_ index: Int) -> (Tensor, PromptSetFeatures, TextPrior) {
            let (features, prior) = sets[index % sets.count]
            return (images[index % images.count], features, prior)
        }

        /// The bits of scoring query `index` alone, with the model directly.
        func alone(_ index: Int) throws -> [UInt32] {
            let (image, features, prior) = query(index)
            return ModelActorBatchingTests.bits(try model.score(image: image, promptSet: features, textPrior: prior))
        }
    }

    /// Every number of a result, as bits.
    static func bits(_ score: InCTRLScore) -> [UInt32] {
        let components = score.components
        return ([score.score, components.patch, components.image, components.text, components.holistic] + score.residualMap)
            .map(\.bitPattern)
    }

    /// The sizes of the stacked forwards an actor ran, in order.
    final class SizeLog: Sendable {
        private let sizes = Mutex<[Int]>([])
        func append(_ size: Int) { sizes.withLock { $0.append(size) } }
        var all: [Int] { sizes.withLock { $0 } }
    }

    /// An actor whose stacked forwards' sizes are recorded.
    static func actor(_ model: InCTRLModel, capacity: Int = 32, batching: ModelActor.Batching) -> (ModelActor, SizeLog) {
        let sizes = SizeLog()
        let actor = ModelActor(model: model, capacity: capacity, batching: batching) { size in sizes.append(size) }
        return (actor, sizes)
    }

    /// Holds the compute thread with work that waits for the returned gate.
    static func occupy(_ actor: ModelActor) async throws -> (DispatchSemaphore, Task<Void, Error>) {
        let gate = DispatchSemaphore(value: 0)
        return (gate, try await InCTRLModelTests().occupy(actor, until: gate))
    }

    static func waitForQueries(_ actor: ModelActor, _ count: Int) async throws {
        while actor.waitingQueries < count { try await Task.sleep(for: .milliseconds(2)) }
    }

    @Test(arguments: 1...8)
    func queuedQueriesRunAsOneForwardAndScoreTheBitsOfEachAlone(size: Int) async throws {
        let sets = try Sets()
        let (actor, sizes) = Self.actor(sets.model, batching: .init(maxBatch: 8))
        let (gate, blocker) = try await Self.occupy(actor)
        let tasks = (0..<size).map { index in
            let (image, features, prior) = sets.query(index)
            return Task { try await actor.score(image: image, promptSet: features, textPrior: prior) }
        }
        try await Self.waitForQueries(actor, size)
        gate.signal()
        _ = try await blocker.value
        for (index, task) in tasks.enumerated() {
            let (result, timing) = try await task.value
            #expect(Self.bits(result) == (try sets.alone(index)), "query \(index) of \(size)")
            #expect(timing.batchSize == size)
        }
        #expect(sizes.all == [size])
        #expect(actor.queueDepth == 0)
    }

    /// A prompt set's features and leave-one-out scores as bits, for comparing registrations.
    static func bits(_ features: PromptSetFeatures, _ leaveOneOut: [InCTRLScore]) -> [UInt32] {
        (features.normalizedTaps.flatMap(\.scalars) + features.prototype).map(\.bitPattern) + leaveOneOut.flatMap(bits)
    }

    @Test(arguments: [1, 2, 3, 8])
    func registrationStacksItsShotsAndGetsTheBitsOfEachAlone(maxBatch: Int) async throws {
        let sets = try Sets()
        let shots = Array(sets.images[0..<5])
        let prior = sets.sets[0].1
        let alone = try sets.model.promptSetFeatures(images: shots, leaveOneOutWith: prior, batchSize: 1)
        let (actor, _) = Self.actor(sets.model, batching: .init(maxBatch: maxBatch))
        let stacked = try await actor.promptSetFeatures(images: shots, leaveOneOutWith: prior).result
        #expect(stacked.features.shots == 5)
        #expect(Self.bits(stacked.features, stacked.leaveOneOut) == Self.bits(alone.features, alone.leaveOneOut))
        let plain = try await actor.promptSetFeatures(images: shots).result
        #expect(Self.bits(plain, []) == Self.bits(alone.features, []))
        #expect(actor.queueDepth == 0)
    }

    @Test func batchesHoldAtMostMaxBatchAndOneTurnsBatchingOff() async throws {
        let sets = try Sets()
        for (maxBatch, expected) in [(3, [3, 3, 2]), (1, [1, 1, 1, 1, 1, 1, 1, 1])] {
            let (actor, sizes) = Self.actor(sets.model, batching: .init(maxBatch: maxBatch))
            let (gate, blocker) = try await Self.occupy(actor)
            let tasks = (0..<8).map { index in
                let (image, features, prior) = sets.query(index)
                return Task { try await actor.score(image: image, promptSet: features, textPrior: prior).result }
            }
            try await Self.waitForQueries(actor, 8)
            gate.signal()
            _ = try await blocker.value
            for (index, task) in tasks.enumerated() {
                #expect(Self.bits(try await task.value) == (try sets.alone(index)), "max \(maxBatch), query \(index)")
            }
            #expect(sizes.all == expected, "max \(maxBatch)")
        }
    }

    /// A multi-image request queues each image as its own query, so it joins the same
    /// batches as single queries, and gets its results back in order.
    @Test func aMultiImageRequestSharesTheBatchWithOtherQueries() async throws {
        let sets = try Sets()
        let (actor, sizes) = Self.actor(sets.model, batching: .init(maxBatch: 8))
        let (gate, blocker) = try await Self.occupy(actor)
        let (single, singleSet, singlePrior) = sets.query(1)
        let first = Task { try await actor.score(image: single, promptSet: singleSet, textPrior: singlePrior).result }
        try await Self.waitForQueries(actor, 1)
        let many = [0, 2, 4, 6, 8, 10]
        let (features, prior) = sets.sets[0]
        let batch = Task { try await actor.score(images: many.map { sets.query($0).0 }, promptSet: features, textPrior: prior) }
        try await Self.waitForQueries(actor, 7)
        gate.signal()
        _ = try await blocker.value
        let (results, timing) = try await batch.value
        #expect(results.map(Self.bits) == (try many.map { try sets.alone($0) }))
        #expect(timing.batchSize == 7)
        #expect(Self.bits(try await first.value) == (try sets.alone(1)))
        #expect(sizes.all == [7])
        #expect(actor.completedWork == 7 + 1, "seven queries and the blocking job")
    }

    @Test func aCancelledQueryLeavesTheBatchAndTheOthersAreUnchanged() async throws {
        let sets = try Sets()
        let (actor, sizes) = Self.actor(sets.model, batching: .init(maxBatch: 8))
        let (gate, blocker) = try await Self.occupy(actor)
        let tasks = (0..<3).map { index in
            let (image, features, prior) = sets.query(index)
            return Task { try await actor.score(image: image, promptSet: features, textPrior: prior).result }
        }
        try await Self.waitForQueries(actor, 3)
        tasks[1].cancel()
        gate.signal()
        _ = try await blocker.value
        await #expect(throws: CancellationError.self) { try await tasks[1].value }
        #expect(Self.bits(try await tasks[0].value) == (try sets.alone(0)))
        #expect(Self.bits(try await tasks[2].value) == (try sets.alone(2)))
        #expect(sizes.all == [2])
    }

    @Test func aRequestThatDoesNotFitIsRefusedWholeBeforeQueueing() async throws {
        let sets = try Sets()
        let (actor, sizes) = Self.actor(sets.model, capacity: 4, batching: .init(maxBatch: 8))
        let (features, prior) = sets.sets[0]
        await #expect(throws: ModelActor.AdmissionError.queueFull(capacity: 4)) {
            try await actor.score(images: Array(sets.images[..<5]), promptSet: features, textPrior: prior)
        }
        #expect(actor.queueDepth == 0 && actor.waitingQueries == 0 && sizes.all.isEmpty)
    }

    /// With a window the thread waits for a query that arrives after it took the first one;
    /// it stops waiting as soon as the batch is full, long before the window ends.
    @Test func aWindowGathersALateQuery() async throws {
        let sets = try Sets()
        let (actor, sizes) = Self.actor(sets.model, batching: .init(maxBatch: 2, window: .seconds(60)))
        let (image, features, prior) = sets.query(0)
        let early = Task { try await actor.score(image: image, promptSet: features, textPrior: prior).result }
        // Taken by the thread, which now waits for a second query.
        while actor.queueDepth < 1 || actor.waitingQueries > 0 { try await Task.sleep(for: .milliseconds(2)) }
        let (lateImage, lateFeatures, latePrior) = sets.query(3)
        let late = try await actor.score(image: lateImage, promptSet: lateFeatures, textPrior: latePrior)
        #expect(Self.bits(try await early.value) == (try sets.alone(0)))
        #expect(Self.bits(late.result) == (try sets.alone(3)))
        #expect(late.timing.batchSize == 2)
        #expect(sizes.all == [2])
    }

    /// Plain work keeps its order; a query behind plain work joins the batch of one ahead of it.
    @Test func computeThreadGathersMembersAroundPlainJobs() async throws {
        let log = Mutex<[String]>([])
        let done = DispatchSemaphore(value: 0)
        let gate = DispatchSemaphore(value: 0)
        let thread = ComputeThread<Int>(name: "test-batching", batching: .init(maxBatch: 4, window: .zero)) { members in
            log.withLock { $0.append("batch \(members)") }
            if members.contains(7) { done.signal() }
        }
        thread.submit { gate.wait() }
        for member in 0..<5 { thread.submit(member: member) }
        thread.submit { log.withLock { $0.append("plain") } }
        for member in 5..<8 { thread.submit(member: member) }
        #expect(thread.waitingMembers == 8)
        gate.signal()
        done.wait()
        let plainDone = DispatchSemaphore(value: 0)
        thread.submit { plainDone.signal() }
        plainDone.wait()
        #expect(log.withLock { $0 } == ["batch [0, 1, 2, 3]", "batch [4, 5, 6, 7]", "plain"])
    }
}
