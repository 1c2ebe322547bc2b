import Foundation
import Tensor
import Testing
@testable import Service
#if canImport(Glibc)
import Glibc
#endif

/// Crashes and damage of a real `inctrl serve` process (issue #6): killed in the middle of a
/// registration (at each fault point of the store's write, and by `kill -9` at arbitrary
/// moments) or of a deletion, then restarted; and started over files damaged on disk.
///
/// After every crash the sets registered before it are served and score bit-identically,
/// the set being written is either whole or absent, nothing torn is listed, and nothing is
/// quarantined. Damaged files are quarantined and reported, and the other sets still score.
@Suite struct ServerCrashTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let className = "solar_cell"

    /// Real 300×300 ELPV cells from the imaging fixtures.
    static func cell(_ name: String) throws -> [UInt8] {
        let url = repository.appendingPathComponent("Tests/Fixtures/imaging/inputs/png_elpv_cell\(name).png")
        return [UInt8](try Data(contentsOf: url))
    }

    static let cellNames = [
        "0004_functional", "0009_functional", "0011_functional", "0001_defective", "0002_defective", "0003_defective",
    ]
    /// Registered before any crash.
    static let setA = ["0004_functional", "0009_functional"]
    static let setB = ["0009_functional", "0011_functional"]
    /// Registered while the server crashes.
    static let setC = ["0011_functional", "0004_functional", "0002_defective"]
    static let queryName = "0003_defective"

    /// A tiny demo bundle, written by `inctrl model demo` once for the suite.
    static let bundle: Result<URL, Error> = Result {
        let vocabulary = ProcessInfo.processInfo.environment["INCTRL_VOCAB"]
            ?? repository.appendingPathComponent(".cache/bpe_simple_vocab_16e6.txt.gz").path
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crash-bundle-\(UUID().uuidString)")
        try ServerProcess.runToCompletion([
            "model", "demo", "--size", "tiny", "--seed", "23", "--vocab", vocabulary, "--out", directory.path,
        ])
        return directory
    }

    /// The parts of a score response that must not change across a restart.
    struct Scores: Equatable, CustomStringConvertible {
        let score: Double
        let components: [String: Double]
        let residualMap: [Double]

        init(_ object: [String: Any]) throws {
            score = try #require(object["score"] as? Double)
            components = try #require(object["components"] as? [String: Double])
            residualMap = try #require((object["residual_map"] as? [String: Any])?["values"] as? [Double])
            #expect(residualMap.count == 225)
            #expect((object["model"] as? [String: Any])?["demo"] as? Bool == true)
        }

        var description: String { "score \(score), components \(components)" }
    }

    /// A clean run: a data directory holding A and B with their features cached, and the
    /// scores of the query against A, B and C, each registered without interruption.
    struct Baseline {
        let dataDirectory: URL
        let scores: [String: Scores]
    }

    /// Makes the baseline once for every test of the suite.
    actor BaselineMaker {
        private var made: Task<Baseline, Error>?

        func baseline() async throws -> Baseline {
            if let made { return try await made.value }
            let task = Task { try await ServerCrashTests.makeBaseline() }
            made = task
            return try await task.value
        }
    }

    static let baselineMaker = BaselineMaker()

    static func makeBaseline() async throws -> Baseline {
        let dataDirectory = try PromptSetTestData.scratchDirectory("crash-baseline")
        let server = try ServerProcess(model: try bundle.get(), dataDirectory: dataDirectory)
        try await server.waitUntilReady()
        var scores: [String: Scores] = [:]
        for (label, names) in [("A", setA), ("B", setB), ("C", setC)] {
            let registered = try await register(names, on: server)
            #expect(registered.status == 201, "registering \(label): \(String(decoding: registered.body, as: UTF8.self))")
            scores[label] = try await score(names, on: server)
        }
        #expect(try await server.send("DELETE", "/prompts/\(id(setC))").status == 204)
        let stopped = try await server.stop(with: SIGTERM)
        #expect(stopped.reason == .exit && stopped.status == 0, "SIGTERM ends the server cleanly")
        return Baseline(dataDirectory: dataDirectory, scores: scores)
    }

    /// A copy of the baseline's data directory, for one test to crash and damage.
    static func baselineCopy() async throws -> (Baseline, URL) {
        let baseline = try await baselineMaker.baseline()
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("crash-data-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: baseline.dataDirectory, to: copy)
        return (baseline, copy)
    }

    static func id(_ names: [String]) throws -> String {
        PromptSetID(className: className, images: try names.map(cell)).hex
    }

    /// Registers `candidates` one after another until the server stops answering (it is
    /// being killed); the task's value is the sets it acknowledged, each with 201.
    static func registerInTurn(_ candidates: [[String]], on server: ServerProcess) -> Task<[[String]], Never> {
        Task {
            var acknowledged: [[String]] = []
            for names in candidates {
                guard let response = try? await register(names, on: server) else { break }
                #expect(response.status == 201)
                acknowledged.append(names)
            }
            return acknowledged
        }
    }

    static func register(_ names: [String], on server: ServerProcess) async throws -> ServerProcess.Response {
        let body = try JSONSerialization.data(withJSONObject: [
            "class_name": className, "images": try names.map { Data(try cell($0)).base64EncodedString() },
        ])
        return try await server.send("POST", "/prompts", body: [UInt8](body), contentType: "application/json")
    }

    static func score(_ names: [String], on server: ServerProcess) async throws -> Scores {
        let response = try await server.send("POST", "/score?prompt_set=\(try id(names))", body: try cell(queryName), contentType: "image/png")
        #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
        return try Scores(try response.object())
    }

    /// The ids `GET /prompts` lists.
    static func listed(on server: ServerProcess) async throws -> Set<String> {
        let listing = try await server.send("GET", "/prompts").object()
        return Set((listing["prompt_sets"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
    }

    /// Entries of a directory under the data directory (none when it does not exist).
    static func entries(_ dataDirectory: URL, _ folder: String) -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: dataDirectory.appendingPathComponent(folder).path)) ?? [])
    }

    /// Starts a server without fault hooks over `dataDirectory` and checks what every crash
    /// must leave: A and B served and scoring as before, nothing torn listed or left on
    /// disk, nothing quarantined. Returns the server, still running, and the listed ids.
    static func restartAndCheckTheEarlierSets(
        _ baseline: Baseline, dataDirectory: URL
    ) async throws -> (ServerProcess, Set<String>) {
        let server = try ServerProcess(model: try bundle.get(), dataDirectory: dataDirectory)
        try await server.waitUntilReady()
        for (label, names) in [("A", setA), ("B", setB)] {
            #expect(try await score(names, on: server) == baseline.scores[label], "set \(label) scores as before the crash")
        }
        let listed = try await listed(on: server)
        #expect(listed.isSuperset(of: [try id(setA), try id(setB)]))
        #expect(entries(dataDirectory, "prompt-sets") == listed, "only whole sets are on disk, and all are listed")
        #expect(entries(dataDirectory, "quarantine").isEmpty)
        #expect(server.logged("quarantined a damaged prompt set").isEmpty)
        let ready = try await server.firstLogged("ready")
        #expect(ready["prompt_sets"] as? String == "\(listed.count)" && ready["quarantined"] as? String == "0")
        #expect(ready["demo"] as? String == "true" && server.logged("serving a DEMO model with random weights: scores are NOT meaningful").count == 1)
        return (server, listed)
    }

    @Test(arguments: [
        StoreFaultPoint.afterImageWrite, .afterManifestWrite, .beforeRename, .afterRename,
    ])
    func killedWhileRegisteringASecondSet(at point: StoreFaultPoint) async throws {
        let (baseline, dataDirectory) = try await Self.baselineCopy()
        defer { try? FileManager.default.removeItem(at: dataDirectory) }

        let crashing = try ServerProcess(
            model: try Self.bundle.get(), dataDirectory: dataDirectory,
            environment: [StoreFaultPoint.environmentVariable: point.rawValue])
        try await crashing.waitUntilReady()
        let answer = try? await Self.register(Self.setC, on: crashing)
        #expect(answer == nil, "the server died before answering")
        let ended = try await crashing.waitForExit()
        #expect(ended.reason == .exit && ended.status == 137)

        let (server, listed) = try await Self.restartAndCheckTheEarlierSets(baseline, dataDirectory: dataDirectory)
        let setC = try Self.id(Self.setC)
        if point == .afterRename {
            #expect(listed.contains(setC), "a set renamed into place is committed")
            #expect(try await Self.score(Self.setC, on: server) == baseline.scores["C"], "set C scores as when registered cleanly")
            #expect(server.logged("removed an unfinished write from an earlier run").isEmpty)
        } else {
            #expect(!listed.contains(setC))
            #expect(try await server.send("GET", "/prompts/\(setC)").status == 404)
            #expect(try await server.send("POST", "/score?prompt_set=\(setC)", body: try Self.cell(Self.queryName), contentType: "image/png").status == 404)
            #expect(server.logged("removed an unfinished write from an earlier run").count == 1)
            // The client retries, and the set is registered whole.
            #expect(try await Self.register(Self.setC, on: server).status == 201)
            #expect(try await Self.score(Self.setC, on: server) == baseline.scores["C"])
        }
        let stopped = try await server.stop(with: SIGTERM)
        #expect(stopped.reason == .exit && stopped.status == 0)
    }

    @Test func killedWhileDeletingASet() async throws {
        let (baseline, dataDirectory) = try await Self.baselineCopy()
        defer { try? FileManager.default.removeItem(at: dataDirectory) }
        let crashing = try ServerProcess(
            model: try Self.bundle.get(), dataDirectory: dataDirectory,
            environment: [StoreFaultPoint.environmentVariable: StoreFaultPoint.afterTrashRename.rawValue])
        try await crashing.waitUntilReady()
        let setB = try Self.id(Self.setB)
        #expect((try? await crashing.send("DELETE", "/prompts/\(setB)")) == nil)
        let ended = try await crashing.waitForExit()
        #expect(ended.reason == .exit && ended.status == 137)

        let server = try ServerProcess(model: try Self.bundle.get(), dataDirectory: dataDirectory)
        try await server.waitUntilReady()
        #expect(try await Self.listed(on: server) == [try Self.id(Self.setA)], "the rename to the trash name is the deletion")
        #expect(Self.entries(dataDirectory, "prompt-sets") == [try Self.id(Self.setA)])
        #expect(try await server.send("GET", "/prompts/\(setB)").status == 404)
        #expect(try await Self.score(Self.setA, on: server) == baseline.scores["A"])
        #expect(server.logged("removed an unfinished write from an earlier run").count == 1)
        _ = try await server.stop(with: SIGTERM)
    }

    /// When a `kill -9` lands during a run of registrations.
    enum KillMoment: CustomTestStringConvertible, Sendable {
        /// This long after the first registration was sent: mostly while features are computed.
        case after(seconds: Double)
        /// This long after a staging directory shows up: while a set's files are written,
        /// synced and renamed into place.
        case afterStaging(milliseconds: Int)

        var testDescription: String {
            switch self {
            case let .after(seconds): "\(seconds) s into the registrations"
            case let .afterStaging(milliseconds): "\(milliseconds) ms into writing a set's files"
            }
        }
    }

    /// `kill -9` while sets are registered one after another: every set the server
    /// acknowledged survives, any other is whole or absent.
    @Test(arguments: [KillMoment.after(seconds: 0.05), .after(seconds: 1.1), .afterStaging(milliseconds: 0), .afterStaging(milliseconds: 5)])
    func killedAtAnArbitraryMomentOfRegistration(_ moment: KillMoment) async throws {
        let (baseline, dataDirectory) = try await Self.baselineCopy()
        defer { try? FileManager.default.removeItem(at: dataDirectory) }
        // Ordered pairs of cells other than A and B: each a distinct set with a known id.
        let candidates = Self.cellNames.flatMap { first in Self.cellNames.map { [first, $0] } }
            .filter { $0[0] != $0[1] && $0 != Self.setA && $0 != Self.setB }
        let crashing = try ServerProcess(model: try Self.bundle.get(), dataDirectory: dataDirectory)
        try await crashing.waitUntilReady()

        let registering = Self.registerInTurn(candidates, on: crashing)
        switch moment {
        case let .after(seconds):
            try await Task.sleep(for: .seconds(seconds))
        case let .afterStaging(milliseconds):
            let deadline = Date().addingTimeInterval(30)
            while !Self.entries(dataDirectory, "prompt-sets").contains(where: { $0.hasPrefix(FileStore.stagingPrefix) }), Date() < deadline {
                try await Task.sleep(for: .microseconds(200))
            }
            try await Task.sleep(for: .milliseconds(milliseconds))
        }
        let ended = try await crashing.stop(with: SIGKILL)
        let acknowledged = await registering.value
        #expect(ended.reason == .uncaughtSignal && ended.status == SIGKILL)
        #expect(acknowledged.count < candidates.count, "the kill came while sets were still being registered")

        let (server, listed) = try await Self.restartAndCheckTheEarlierSets(baseline, dataDirectory: dataDirectory)
        for names in candidates {
            let setID = try Self.id(names)
            if acknowledged.contains(names) { #expect(listed.contains(setID), "an acknowledged set survives kill -9") }
            guard listed.contains(setID) else { continue }
            let description = try await server.send("GET", "/prompts/\(setID)").object()
            let digests = (description["images"] as? [[String: Any]])?.compactMap { $0["sha256"] as? String }
            #expect(digests == (try names.map { SHA256.hex(try Self.cell($0)) }), "every stored image is the one sent")
            #expect(try await server.send("POST", "/score?prompt_set=\(setID)", body: try Self.cell(Self.queryName), contentType: "image/png").status == 200)
        }
        _ = try await server.stop(with: SIGTERM)
    }

    /// Ways a stored file can be damaged behind the server's back.
    enum Damage: String, CaseIterable, CustomTestStringConvertible {
        case flippedImageByte = "a flipped byte in a stored image"
        case truncatedManifest = "a truncated manifest"

        var testDescription: String { rawValue }
    }

    @Test(arguments: Damage.allCases)
    func aDamagedSetIsQuarantinedAndTheOthersServe(_ damage: Damage) async throws {
        let (baseline, dataDirectory) = try await Self.baselineCopy()
        defer { try? FileManager.default.removeItem(at: dataDirectory) }
        let setB = try Self.id(Self.setB)
        let directory = dataDirectory.appendingPathComponent("prompt-sets/\(setB)")
        switch damage {
        case .flippedImageByte:
            let handle = try FileHandle(forUpdating: directory.appendingPathComponent("images/1.png"))
            try handle.seek(toOffset: 100)
            let byte = try #require(try handle.read(upToCount: 1)?.first)
            try handle.seek(toOffset: 100)
            try handle.write(contentsOf: [byte ^ 0x40])
            try handle.close()
        case .truncatedManifest:
            let manifest = directory.appendingPathComponent("manifest.json")
            let bytes = try Data(contentsOf: manifest)
            try bytes.prefix(bytes.count / 2).write(to: manifest)
        }

        let server = try ServerProcess(model: try Self.bundle.get(), dataDirectory: dataDirectory)
        try await server.waitUntilReady()
        let readiness = try await server.send("GET", "/readyz").object()
        #expect(readiness["prompt_sets"] as? Int == 1)
        let reports = server.logged("quarantined a damaged prompt set")
        #expect(reports.count == 1 && reports.first?["entry"] as? String == setB && reports.first?["level"] as? String == "error")
        #expect(try await server.firstLogged("ready")["quarantined"] as? String == "1")
        let quarantined = Self.entries(dataDirectory, "quarantine")
        #expect(quarantined.count == 1 && quarantined.first?.hasPrefix(setB + "-") == true)
        if let entry = quarantined.first {
            let reason = try String(contentsOf: dataDirectory.appendingPathComponent("quarantine/\(entry)/reason.txt"), encoding: .utf8)
            #expect(reason.contains(damage == .flippedImageByte ? "SHA-256" : "manifest.json"), "\(reason)")
        }

        #expect(try await Self.listed(on: server) == [try Self.id(Self.setA)])
        #expect(try await Self.score(Self.setA, on: server) == baseline.scores["A"])
        #expect(try await server.send("POST", "/score?prompt_set=\(setB)", body: try Self.cell(Self.queryName), contentType: "image/png").status == 404)
        // Registering the set again serves it again, exactly as before.
        #expect(try await Self.register(Self.setB, on: server).status == 201)
        #expect(try await Self.score(Self.setB, on: server) == baseline.scores["B"])
        _ = try await server.stop(with: SIGTERM)
    }

    @Test func aDamagedFeatureCacheIsRecomputed() async throws {
        let (baseline, dataDirectory) = try await Self.baselineCopy()
        defer { try? FileManager.default.removeItem(at: dataDirectory) }
        let models = Self.entries(dataDirectory, "feature-cache")
        #expect(models.count == 1, "one model's features are cached")
        let file = dataDirectory.appendingPathComponent("feature-cache/\(try #require(models.first))/prompt-sets/\(try Self.id(Self.setA)).safetensors")
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count - 7] ^= 0x01
        try bytes.write(to: file)

        let server = try ServerProcess(model: try Self.bundle.get(), dataDirectory: dataDirectory)
        try await server.waitUntilReady()
        // Features are read on a set's first use, not at start: the start finds both sets'
        // calibrations, and set A's first scoring finds its features damaged, computes them
        // again from its images, and scores as before.
        let ready = try await server.firstLogged("ready")
        #expect(ready["from_cache"] as? String == "2" && ready["recomputed"] as? String == "0")
        #expect(server.logged("recomputing damaged prompt-set data").isEmpty)
        #expect(try await Self.score(Self.setA, on: server) == baseline.scores["A"])
        #expect(try await Self.score(Self.setB, on: server) == baseline.scores["B"])
        let damaged = try await server.firstLogged("recomputing damaged prompt-set data")
        #expect(damaged["id"] as? String == (try Self.id(Self.setA)))
        _ = try await server.stop(with: SIGTERM)
    }
}
