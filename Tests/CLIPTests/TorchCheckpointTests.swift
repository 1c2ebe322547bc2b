import Foundation
import Tensor
import Testing
@testable import CLIP

/// The native reader of `torch.save` archives, against files PyTorch itself wrote
/// (`tools/make_checkpoint_fixtures.py`).
@Suite struct TorchCheckpointTests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/checkpoint")

    func fixture(_ name: String) -> URL { Self.fixtures.appendingPathComponent(name) }

    func scratchCopy(of name: String, mutate: (inout [UInt8]) -> Void) throws -> URL {
        var bytes = [UInt8](try Data(contentsOf: fixture(name)))
        mutate(&bytes)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString).pt")
        try Data(bytes).write(to: url)
        return url
    }

    @Test(arguments: ["state-dict.pt", "bare-state-dict.pt"])
    func everyFloatTensorMatchesWhatPyTorchSaved(name: String) throws {
        let checkpoint = try TorchCheckpoint(contentsOf: fixture(name))
        let expected = try SafeTensorsFile(contentsOf: fixture("expected.safetensors"))
        #expect(checkpoint.tensorInfos.map(\.name) == [
            "visual.proj", "half", "brain", "double", "transposed", "sliced", "shared.first", "shared.second",
            "bn.num_batches_tracked", "scalar", "parameter",
        ])
        for entry in expected.entries {
            let values = try checkpoint.floats(entry.name, shape: entry.shape)
            #expect(values == (try expected.floats(entry.name)), "tensor \(entry.name)")
        }
        #expect(checkpoint.tensorInfos.first { $0.name == "half" }?.dtype == "float16")
        #expect(checkpoint.tensorInfos.first { $0.name == "transposed" }?.shape == [6, 4])
    }

    @Test func wrongShapeMissingKeyAndIntegerTensorsAreNamed() throws {
        let checkpoint = try TorchCheckpoint(contentsOf: fixture("state-dict.pt"))
        #expect(throws: CheckpointError.shapeMismatch("visual.proj", expected: [5, 3], found: [3, 5])) {
            try checkpoint.floats("visual.proj", shape: [5, 3])
        }
        #expect(throws: CheckpointError.missingTensor("visual.conv1.weight")) {
            try checkpoint.floats("visual.conv1.weight")
        }
        #expect(throws: CheckpointError.unsupportedDType(tensor: "bn.num_batches_tracked", dtype: "int64")) {
            try checkpoint.floats("bn.num_batches_tracked")
        }
    }

    @Test func refusesAPickleThatNamesOsSystem() {
        #expect(throws: CheckpointError.forbiddenGlobal("posix.system")) {
            try TorchCheckpoint(contentsOf: fixture("forbidden-global.pt"))
        }
    }

    @Test func refusesAnUnknownOpcode() {
        #expect(throws: CheckpointError.forbiddenOpcode(opcode: 0x69, offset: 3)) {
            try TorchCheckpoint(contentsOf: fixture("unknown-opcode.pt"))
        }
    }

    @Test func refusesAViewLongerThanItsStorage() throws {
        let checkpoint = try TorchCheckpoint(contentsOf: fixture("short-storage.pt"))
        #expect(throws: CheckpointError.storageTooShort(tensor: "weight", needed: 48, available: 20)) {
            try checkpoint.floats("weight")
        }
    }

    @Test func refusesTruncatedArchives() throws {
        let size = try Data(contentsOf: fixture("state-dict.pt")).count
        for keep in [0, 10, size / 2, size - 30] {
            let url = try scratchCopy(of: "state-dict.pt") { $0.removeLast($0.count - keep) }
            #expect(throws: CheckpointError.self) { try TorchCheckpoint(contentsOf: url) }
        }
    }

    @Test func detectsCorruptedBytesThroughCRC() throws {
        let original = try [UInt8](Data(contentsOf: fixture("bare-state-dict.pt")))
        // The first float of storage "0" ("visual.proj"): find the entry's data and flip a bit.
        let archive = try ZipArchive(file: MappedFile(path: fixture("bare-state-dict.pt").path))
        let entry = try #require(archive.entry("bare-state-dict/data/0"))
        let url = try scratchCopy(of: "bare-state-dict.pt") { $0[entry.dataRange.lowerBound] ^= 0x40 }
        #expect(original[entry.dataRange.lowerBound] != (try [UInt8](Data(contentsOf: url)))[entry.dataRange.lowerBound])
        let damaged = try TorchCheckpoint(contentsOf: url)
        #expect(throws: CheckpointError.checksumMismatch(name: "bare-state-dict/data/0")) {
            try damaged.floats("visual.proj")
        }
    }

    @Test func refusesFilesThatAreNotZipArchives() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("not-zip-\(UUID().uuidString).pt")
        try Data(repeating: 0x41, count: 4096).write(to: url)
        #expect(throws: CheckpointError.self) { try TorchCheckpoint(contentsOf: url) }
        let legacy = FileManager.default.temporaryDirectory.appendingPathComponent("legacy-\(UUID().uuidString).pt")
        try Data([0x80, 0x02, 0x8a, 0x0a] + [UInt8](repeating: 0, count: 64)).write(to: legacy)
        do {
            _ = try TorchCheckpoint(contentsOf: legacy)
            Issue.record("legacy format accepted")
        } catch {
            #expect("\(error)".contains("legacy"))
        }
    }
}
