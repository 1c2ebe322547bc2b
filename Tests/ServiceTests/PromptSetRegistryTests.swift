import CLIP
import Dispatch
import Foundation
import InCTRL
import Logging
import Testing
@testable import Service

/// The registry as the one owner of prompt-set state, with the tiny demo model and real
/// ELPV cells: limits checked once, a reservation before any compute, duplicates and
/// concurrent registrations, and shared text-prior computations.
@Suite struct PromptSetRegistryTests {
    /// The six ELPV cells of the fixtures; each one alone is a distinct prompt set.
    static let cells: [[UInt8]] = ["0001_defective", "0002_defective", "0003_defective", "0004_functional", "0009_functional", "0011_functional"]
        .map { try! InCTRLServiceTests.cell($0) }

    /// An open, ready registry over a fresh file store, and its model actor.
    struct Opened {
        let registry: PromptSetRegistry
        let model: ModelActor
        let dataDirectory: URL

        init(limits: PromptSetLimits = PromptSetLimits(), capacity: Int = 8) async throws {
            let bundle = try ModelBundle.open(try InCTRLServiceTests.bundle.get())
            model = ModelActor(model: try InCTRLModel(bundle: bundle), capacity: capacity)
            dataDirectory = try PromptSetTestData.scratchDirectory("registry")
            registry = PromptSetRegistry(
                store: FileStore(dataDirectory: dataDirectory), limits: limits,
                metrics: try ServiceMetrics(routePatterns: []), logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
            _ = try await registry.open(model: model, pipeline: ImagePipeline())
            await registry.markReady()
        }

        var storedSets: [String] {
            (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory.appendingPathComponent("prompt-sets").path)) ?? []
        }
    }

    @Test func limitsRefuseInvalidInputWithTypedErrors() async throws {
        let limits = PromptSetLimits(maxSets: 10, maxImagesPerSet: 4, maxImageBytes: 4096, maxClassNameBytes: 16)
        let image = PromptSetTestData.png(seed: 9)
        let cases: [(String, [[UInt8]], PromptSetRegistryError)] = [
            ("", [image], .invalidClassName("it is empty")),
            ("  ", [image], .invalidClassName("it is empty")),
            (String(repeating: "é", count: 9), [image], .invalidClassName("it is 18 bytes long; the limit is 16")),
            ("bad\nname", [image], .invalidClassName("it contains control characters")),
            ("bottle", [], .noImages),
            ("bottle", Array(repeating: image, count: 5), .tooManyImages(count: 5, limit: 4)),
            ("bottle", [image, []], .emptyImage(index: 1)),
            ("bottle", [image, PromptSetTestData.png(seed: 1, count: 4097)], .imageTooLarge(index: 1, bytes: 4097, limit: 4096)),
        ]
        let opened = try await Opened(limits: limits)
        for (className, images, expected) in cases {
            #expect(throws: expected) { try limits.validate(className: className, images: images) }
            await #expect(throws: expected) { try await opened.registry.register(className: className, images: images) }
        }
        // Refused before any work: nothing computed, nothing stored.
        #expect(opened.model.completedWork == 0)
        #expect(await opened.registry.count == 0 && opened.storedSets.isEmpty)
        // The limits are inclusive.
        #expect(throws: Never.self) {
            try limits.validate(className: String(repeating: "é", count: 8), images: PromptSetTestData.images(set: 6, shots: 4, count: 4096))
        }
    }

    /// A full registry answers at once, before the vision tower runs; known sets are still
    /// found, and a deletion frees a place.
    @Test func aFullRegistryRefusesNewSetsBeforeAnyCompute() async throws {
        let opened = try await Opened(limits: PromptSetLimits(maxSets: 2))
        let first = try await opened.registry.register(className: "a", images: [Self.cells[0]])
        _ = try await opened.registry.register(className: "b", images: [Self.cells[1]])
        let work = opened.model.completedWork
        await #expect(throws: PromptSetRegistryError.full(limit: 2)) {
            try await opened.registry.register(className: "c", images: [Self.cells[2]])
        }
        #expect(opened.model.completedWork == work, "the refused registration ran the model")
        #expect(!(try await opened.registry.register(className: "a", images: [Self.cells[0]]).created))
        try await opened.registry.delete(first.record.id)
        #expect(try await opened.registry.register(className: "c", images: [Self.cells[2]]).created)
        #expect(await opened.registry.count == 2 && opened.storedSets.count == 2)
    }

    /// A registration that fails after its reservation (an image that does not decode, a
    /// full model queue) releases its place.
    @Test func aFailedRegistrationReleasesItsReservation() async throws {
        let opened = try await Opened(limits: PromptSetLimits(maxSets: 1), capacity: 1)
        await #expect(throws: (any Error).self) {
            try await opened.registry.register(className: "a", images: [Self.cells[0], PromptSetTestData.png(seed: 3)])
        }
        // The model queue is held full, so computing the features is refused.
        let gate = DispatchSemaphore(value: 0)
        let blocker = Task { _ = try await opened.model.run { () throws(InCTRLError) in gate.wait() } }
        while opened.model.queueDepth == 0 { try await Task.sleep(for: .milliseconds(5)) }
        await #expect(throws: ModelActor.AdmissionError.queueFull(capacity: 1)) {
            try await opened.registry.register(className: "b", images: [Self.cells[1]])
        }
        gate.signal()
        _ = try await blocker.value
        #expect(await opened.registry.count == 0 && opened.storedSets.isEmpty)
        #expect(try await opened.registry.register(className: "c", images: [Self.cells[2]]).created)
    }

    /// While a registration computes, its place is reserved: a different set is refused at
    /// once, and the same set waits for it and answers with its record.
    @Test func aReservationHoldsItsPlaceWhileComputing() async throws {
        let opened = try await Opened(limits: PromptSetLimits(maxSets: 1))
        let gate = DispatchSemaphore(value: 0)
        let blocker = Task { _ = try await opened.model.run { () throws(InCTRLError) in gate.wait() } }
        while opened.model.queueDepth == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let first = Task { try await opened.registry.register(className: "a", images: [Self.cells[0]]) }
        // The twin starts once the first holds the reservation: two tasks started together
        // reach the actor in either order.
        while await opened.registry.reservations.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        let twin = Task { try await opened.registry.register(className: "a", images: [Self.cells[0]]) }
        await #expect(throws: PromptSetRegistryError.full(limit: 1)) {
            try await opened.registry.register(className: "b", images: [Self.cells[1]])
        }
        gate.signal()
        _ = try await blocker.value
        let (created, found) = (try await first.value, try await twin.value)
        #expect(created.created && !found.created && found.record == created.record)
        #expect(opened.storedSets == [created.record.id.hex])
    }

    @Test func concurrentRegistrationsCreateEachSetOnceAndRespectTheLimit() async throws {
        let opened = try await Opened(limits: PromptSetLimits(maxSets: 4))
        let registry = opened.registry
        // Half the tasks register one shared set, the others five different ones: six sets
        // compete for four places.
        let sets: [Int] = (0..<16).map { $0 % 2 == 0 ? 0 : 1 + $0 / 2 % 5 }
        let outcomes = try await withThrowingTaskGroup(of: (PromptSetID, Bool).self) { group in
            for set in sets {
                group.addTask {
                    let images = [Self.cells[set]]
                    do {
                        let outcome = try await registry.register(className: "pill", images: images)
                        #expect(outcome.record.id == PromptSetID(className: "pill", images: images))
                        return (outcome.record.id, outcome.created)
                    } catch PromptSetRegistryError.full {
                        return (PromptSetID(className: "pill", images: images), false)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let created = outcomes.filter(\.1).map(\.0)
        #expect(created.count == 4)
        #expect(Set(created).count == 4)
        #expect(Set(try await registry.records().map(\.id)) == Set(created))
        #expect(Set(opened.storedSets) == Set(created.map(\.hex)))
    }

    /// Concurrent first requests for one class name share a single text-prior computation,
    /// and all get the prior computing it alone gives; later ones come from a registered set.
    @Test func concurrentFirstTextPriorRequestsShareOneComputation() async throws {
        let opened = try await Opened()
        let compute = try await opened.registry.ready()
        let gate = DispatchSemaphore(value: 0)
        // Hold the compute thread so every request below arrives while the first is pending.
        let blocker = Task { _ = try await opened.model.run { () throws(InCTRLError) in gate.wait() } }
        while opened.model.queueDepth == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let requests = (0..<4).map { _ in Task { try await opened.registry.textPrior("screw", compute: compute) } }
        while await opened.registry.textPriorsComputed == 0 { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(50))
        gate.signal()
        _ = try await blocker.value

        let expected = try opened.model.model.textPrior(className: "screw")
        for request in requests {
            let prior = try await request.value
            #expect(prior.normal == expected.normal && prior.anomalous == expected.anomalous)
        }
        #expect(await opened.registry.textPriorsComputed == 1)
        _ = try await opened.registry.register(className: "screw", images: [Self.cells[3]])
        _ = try await opened.registry.textPrior("screw", compute: compute)
        #expect(await opened.registry.textPriorsComputed == 1)
    }
}
