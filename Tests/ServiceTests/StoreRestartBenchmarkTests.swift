import Foundation
import InCTRL
import Tensor
import Testing
@testable import Service

/// How long a restart takes with a full store: opening 100 stored 8-shot sets, and loading
/// cached full-size features. Writes about 20 MB per cached set, so it runs only on request:
///
///     INCTRL_STORE_BENCHMARK=1 [INCTRL_STORE_BENCHMARK_CACHED_SETS=20] \
///       swift test -c release -Xswiftc -enable-testing --filter StoreRestartBenchmarkTests
///
/// It prints wall-clock time and this thread's CPU time (on a busy machine the second says
/// more); it asserts only that everything written is read back.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["INCTRL_STORE_BENCHMARK"] != nil), .serialized)
struct StoreRestartBenchmarkTests {
    /// Wall-clock and CPU milliseconds of `body`.
    func measure(_ body: () async throws -> Void) async rethrows -> (wall: Double, cpu: Double) {
        func now() -> (wall: Double, cpu: Double) {
            var wall = timespec(), cpu = timespec()
            clock_gettime(CLOCK_MONOTONIC, &wall)
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu)
            return (Double(wall.tv_sec) * 1e3 + Double(wall.tv_nsec) * 1e-6, Double(cpu.tv_sec) * 1e3 + Double(cpu.tv_nsec) * 1e-6)
        }
        let start = now()
        try await body()
        let end = now()
        return (end.wall - start.wall, end.cpu - start.cpu)
    }

    func describe(_ time: (wall: Double, cpu: Double), per count: Int = 1) -> String {
        String(format: "%.1f ms wall, %.1f ms CPU", time.wall / Double(count), time.cpu / Double(count))
    }

    @Test func openingAStoreOf100EightShotSets() async throws {
        let fixture = try await OpenedStore()
        let setCount = 100, shots = 8
        let saving = try await measure {
            for set in 0..<setCount {
                _ = try await fixture.store.save(className: "class \(set % 15)", images: PromptSetTestData.images(set: UInt64(set), shots: shots, count: 4096))
            }
        }
        var report: StoreLoadReport?
        let opening = try await measure { report = try await fixture.reopened().1 }
        #expect(report?.loaded.count == setCount)
        #expect(report?.quarantined.isEmpty == true)
        print("store: saved \(setCount) sets of \(shots) × 4 KiB images, per set \(describe(saving, per: setCount)); open() took \(describe(opening))")
    }

    @Test func loadingCachedFullSizeFeatures() async throws {
        let count = Int(ProcessInfo.processInfo.environment["INCTRL_STORE_BENCHMARK_CACHED_SETS"] ?? "") ?? 20
        let dataDirectory = try PromptSetTestData.scratchDirectory("feature-cache-benchmark")
        defer { try? FileManager.default.removeItem(at: dataDirectory) }
        // ViT-B-16-plus-240: 3 taps of 225 patches × 896, a 640-wide embedding.
        let geometry = FeatureGeometry(tapLayers: 3, patchesPerImage: 225, tapWidth: 896, embeddingWidth: 640)
        let shots = 8
        let cache = try FeatureCache(dataDirectory: dataDirectory, key: DerivedFeatureKey(modelIdentity: "benchmark", geometry: geometry))
        var generator = SeededGenerator(seed: 1)
        let scalars = (0..<(225 * shots * 896)).map { _ in Float.random(in: -1...1, using: &generator) }
        let tap = try Tensor(shape: [225 * shots, 896], scalars: scalars)
        let features = PromptSetFeatures(shots: shots, normalizedTaps: [tap, tap, tap], prototype: Array(scalars.prefix(640)))
        let ids = (0..<count).map { PromptSetID(className: "benchmark", images: [[UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)]]) }

        let storing = try await measure {
            for id in ids { try cache.store(features, for: id) }
        }
        let fileBytes = try FileManager.default.attributesOfItem(atPath: cache.promptSetURL(ids[0]).path)[.size] as? Int ?? 0
        var hits = 0
        let loading = await measure {
            for id in ids where cache.promptSetFeatures(for: id, shots: shots).value != nil { hits += 1 }
        }
        #expect(hits == count)
        print("""
            feature cache: \(count) sets of \(String(format: "%.1f", Double(fileBytes) / 1e6)) MB each; \
            per set: stored in \(describe(storing, per: count)), loaded and verified in \(describe(loading, per: count)); \
            all \(count) loaded in \(describe(loading))
            """)
    }
}
