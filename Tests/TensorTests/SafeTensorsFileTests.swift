import Foundation
import Testing
@testable import Tensor

/// Reader and writer of the safetensors format, including every way a file can lie.
@Suite struct SafeTensorsFileTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("safetensors-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// A file made of an explicit header string and data bytes, for hostile cases.
    func rawFile(header: String, data: [UInt8], declaredLength: UInt64? = nil) throws -> URL {
        let headerBytes = Array(header.utf8)
        var bytes: [UInt8] = []
        withUnsafeBytes(of: (declaredLength ?? UInt64(headerBytes.count)).littleEndian) { bytes += $0 }
        bytes += headerBytes + data
        let url = directory.appendingPathComponent("\(UUID().uuidString).safetensors")
        try Data(bytes).write(to: url)
        return url
    }

    func expectError(_ url: URL, _ matches: (SafeTensorsError) -> Bool) {
        do {
            _ = try SafeTensorsFile(contentsOf: url)
            Issue.record("opened a file that should have been refused")
        } catch {
            #expect(matches(error), "unexpected error: \(error)")
        }
    }

    /// Weights packed in place from the mapping (fp32, at an odd offset in the file) equal
    /// weights packed from a copy, and a tensor stored in bf16 goes through a converted copy.
    @Test(arguments: [WeightPrecision.fp32, .bf16])
    func packingInPlaceEqualsPackingACopy(precision: WeightPrecision) throws {
        guard precision == .fp32 || ComputeEngine.multipliesBF16Natively else { return }
        var generator = SeededGenerator(seed: 7)
        let weight = (0..<(48 * 80)).map { _ in Float.random(in: -1...1, using: &generator) }
        var writer = SafeTensorsWriter()
        writer.add("odd", shape: [1], dtype: .bf16, bytes: [0, 0x3F])  // shifts what follows by 2 bytes
        writer.add("w", shape: [80, 48], floats: weight)
        writer.add("w16", shape: [80, 48], dtype: .bf16, bytes: weight.flatMap { value -> [UInt8] in
            let bits = UInt16(value.bitPattern >> 16)
            return [UInt8(bits & 0xFF), UInt8(bits >> 8)]
        })
        let url = directory.appendingPathComponent("weights.safetensors")
        try writer.write(to: url)
        let file = try SafeTensorsFile(contentsOf: url)
        let engine = try ComputeEngine()
        func pack(_ scalars: UnsafeRawPointer) -> Result<LinearWeights, TensorError> {
            Result { () throws(TensorError) in
                try engine.packLinear(
                    weightAt: scalars, orientation: .outputMajor, inFeatures: 48, outFeatures: 80, typicalRows: 16,
                    precision: precision)
            }
        }
        func bytes(_ packed: LinearWeights) -> [UInt8] {
            Array(UnsafeRawBufferPointer(start: packed.packed.rawBase, count: packed.packed.count * 4))
        }
        for name in ["w", "w16"] {
            let inPlace = try file.withFloat32Storage(name, shape: [80, 48], pack).get()
            let copied = try engine.packLinear(
                weight: try file.floats(name, shape: [80, 48]), orientation: .outputMajor, inFeatures: 48, outFeatures: 80,
                typicalRows: 16, precision: precision)
            #expect(bytes(inPlace) == bytes(copied), "\(name)")
        }
        #expect(throws: SafeTensorsError.self) { try file.withFloat32Storage("w", shape: [48, 80], pack) }
    }

    @Test func roundTripKeepsValuesShapesOrderAndMetadata() throws {
        var writer = SafeTensorsWriter()
        writer.metadata = ["format": "pt", "quote\"d": "line\nbreak"]
        writer.add("b.weight", shape: [2, 3], floats: [1, -2, 3.5, 4, 5, -6.25])
        writer.add("a.bias", shape: [3], floats: [0.1, 0.2, 0.3])
        writer.add("scalar", shape: [], floats: [42])
        let url = directory.appendingPathComponent("model.safetensors")
        try writer.write(to: url)

        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.entries.map(\.name) == ["b.weight", "a.bias", "scalar"])
        #expect(file.metadata == ["format": "pt", "quote\"d": "line\nbreak"])
        #expect(try file.floats("b.weight", shape: [2, 3]) == [1, -2, 3.5, 4, 5, -6.25])
        #expect(try file.floats("a.bias") == [0.1, 0.2, 0.3])
        #expect(try file.floats("scalar", shape: []) == [42])
        #expect(file.entry("a.bias")?.shape == [3])
        // The data section starts 8-byte aligned.
        let headerLength = try Data(contentsOf: url).prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(headerLength % 8 == 0)
    }

    @Test func readsHalfAndBFloat16AsFloat() throws {
        let halves: [Float16] = [1.5, -0.25, 65504]
        var halfBytes: [UInt8] = []
        for value in halves { withUnsafeBytes(of: value.bitPattern.littleEndian) { halfBytes += $0 } }
        let bfloats: [Float] = [3.140625, -1024, 0.5]
        var bfloatBytes: [UInt8] = []
        for value in bfloats {
            withUnsafeBytes(of: UInt16(value.bitPattern >> 16).littleEndian) { bfloatBytes += $0 }
        }
        var writer = SafeTensorsWriter()
        writer.add("half", shape: [3], dtype: .f16, bytes: halfBytes)
        writer.add("brain", shape: [3], dtype: .bf16, bytes: bfloatBytes)
        let url = directory.appendingPathComponent("mixed.safetensors")
        try writer.write(to: url)
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(try file.floats("half") == [1.5, -0.25, 65504])
        #expect(try file.floats("brain") == bfloats)
    }

    @Test func errorsNameTheKey() throws {
        var writer = SafeTensorsWriter()
        writer.add("visual.proj", shape: [2, 2], floats: [1, 2, 3, 4])
        writer.add("steps", shape: [], dtype: .i64, bytes: [7, 0, 0, 0, 0, 0, 0, 0])
        let url = directory.appendingPathComponent("keys.safetensors")
        try writer.write(to: url)
        let file = try SafeTensorsFile(contentsOf: url)

        #expect(throws: SafeTensorsError.missingTensor("visual.conv1.weight")) {
            try file.floats("visual.conv1.weight")
        }
        #expect(throws: SafeTensorsError.shapeMismatch("visual.proj", expected: [4], found: [2, 2])) {
            try file.floats("visual.proj", shape: [4])
        }
        #expect(throws: SafeTensorsError.unsupportedDType("steps", .i64)) {
            try file.floats("steps")
        }
        #expect(try file.bytes("steps") == [7, 0, 0, 0, 0, 0, 0, 0])
        #expect("\(SafeTensorsError.missingTensor("visual.conv1.weight"))".contains("visual.conv1.weight"))
    }

    @Test func refusesEmptyAndTruncatedFiles() throws {
        let empty = directory.appendingPathComponent("empty.safetensors")
        try Data().write(to: empty)
        expectError(empty) { if case .truncated = $0 { true } else { false } }

        var writer = SafeTensorsWriter()
        writer.add("x", shape: [16], floats: Array(repeating: 1, count: 16))
        let whole = directory.appendingPathComponent("whole.safetensors")
        try writer.write(to: whole)
        let bytes = try Data(contentsOf: whole)
        for cut in [4, 12, bytes.count - 1] {
            let truncated = directory.appendingPathComponent("cut-\(cut).safetensors")
            try bytes.prefix(cut).write(to: truncated)
            expectError(truncated) { error in
                switch error {
                case .truncated, .invalidHeader: true
                default: false
                }
            }
        }
    }

    @Test func refusesHeadersThatLie() throws {
        let eightFloats = [UInt8](repeating: 0, count: 32)
        // Ends past the data section: indistinguishable from a file cut short.
        expectError(try rawFile(header: #"{"x":{"dtype":"F32","shape":[16],"data_offsets":[0,64]}}"#, data: eightFloats)) {
            if case .truncated = $0 { true } else { false }
        }
        // Length does not match dtype × shape.
        expectError(try rawFile(header: #"{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,32]}}"#, data: eightFloats)) {
            if case .invalidOffsets(_, "x", _) = $0 { true } else { false }
        }
        // Two tensors overlapping.
        expectError(try rawFile(
            header: #"{"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]},"b":{"dtype":"F32","shape":[4],"data_offsets":[16,32]}}"#,
            data: eightFloats)) {
            if case .invalidOffsets = $0 { true } else { false }
        }
        // A hole between tensors.
        expectError(try rawFile(
            header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}"#,
            data: [UInt8](repeating: 0, count: 24))) {
            if case .invalidOffsets(_, "b", _) = $0 { true } else { false }
        }
        // Bytes left over after the last tensor.
        expectError(try rawFile(header: #"{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: eightFloats)) {
            if case .invalidHeader = $0 { true } else { false }
        }
        // Begin after end.
        expectError(try rawFile(header: #"{"x":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, data: [])) {
            if case .invalidOffsets = $0 { true } else { false }
        }
        // A shape whose byte count overflows.
        expectError(try rawFile(
            header: #"{"x":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,32]}}"#, data: eightFloats)) {
            if case .invalidHeader = $0 { true } else { false }
        }
    }

    @Test func refusesMalformedHeaders() throws {
        let data = [UInt8](repeating: 0, count: 4)
        let cases = [
            #"not json"#,
            #"[1,2,3]"#,
            #"{"x":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}"#,
            #"{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#,
            #"{"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#,
            #"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#,
            #"{"x":{"dtype":"F32","shape":[1]}}"#,
            #"{"__metadata__":{"a":1},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
        ]
        for header in cases {
            expectError(try rawFile(header: header, data: data)) { error in
                if case .invalidHeader = error { true } else { false }
            }
        }
        // A header length far beyond the limit is refused before anything is read.
        expectError(try rawFile(header: "{}", data: [], declaredLength: UInt64.max)) {
            if case .invalidHeader = $0 { true } else { false }
        }
        // A header length beyond the file is a truncation.
        expectError(try rawFile(header: "{}", data: [], declaredLength: 1000)) {
            if case .truncated = $0 { true } else { false }
        }
    }

    @Test func refusesWhatIsNotARegularFile() {
        expectError(directory) { if case .unreadable = $0 { true } else { false } }
        expectError(directory.appendingPathComponent("absent.safetensors")) {
            if case .unreadable = $0 { true } else { false }
        }
    }
}
