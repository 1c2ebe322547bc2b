import CLIP
import Foundation
import Tensor

/// The tiny parity fixture written by `tools/make_clip_fixtures.py`: a bundle of an OpenCLIP
/// model with random weights, and that model's outputs on fixed inputs.
struct CLIPFixture {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/clip-tiny")

    let directory: URL
    let bundle: ModelBundle
    let reference: SafeTensorsFile

    init(directory: URL = CLIPFixture.directory) throws {
        self.directory = directory
        bundle = try ModelBundle.open(directory, requireVocabulary: false)
        reference = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("reference.safetensors"))
    }

    /// The same outputs with every tower matmul's operands rounded to bf16, as
    /// `tools/make_bf16_reference.py` emulates the bf16 precision; the inputs stay in
    /// `reference`.
    func bf16Reference() throws -> SafeTensorsFile {
        try SafeTensorsFile(contentsOf: directory.appendingPathComponent("reference-bf16.safetensors"))
    }

    var imageCount: Int { reference.entry("images")?.shape.first ?? 0 }

    /// Input image `index`, `[3, size, size]`, normalised.
    func image(_ index: Int) throws -> Tensor {
        try row(index, of: "images")
    }

    /// Row `index` of the tensor `name` of `file` (its first dimension dropped); by default
    /// of the fp32 reference.
    func row(_ index: Int, of name: String, in file: SafeTensorsFile? = nil) throws -> Tensor {
        let all = try tensor(name, in: file)
        return try all.rows(index..<(index + 1)).reshaped(to: Array(all.shape.dropFirst()))
    }

    /// The tensor `name` of `file`; by default of the fp32 reference.
    func tensor(_ name: String, in file: SafeTensorsFile? = nil) throws -> Tensor {
        let file = file ?? reference
        guard let entry = file.entry(name) else { throw SafeTensorsError.missingTensor(name) }
        return try Tensor(shape: entry.shape, scalars: file.floats(name))
    }

    /// The reference token ids, one row of 77 per prompt (stored as little-endian I64).
    func tokenRows() throws -> [[Int64]] {
        guard let entry = reference.entry("tokens") else { throw SafeTensorsError.missingTensor("tokens") }
        let bytes = try reference.bytes("tokens")
        let ids = stride(from: 0, to: bytes.count, by: 8).map { offset in
            bytes[offset..<(offset + 8)].reversed().reduce(Int64(0)) { $0 << 8 | Int64($1) }
        }
        let columns = entry.shape[1]
        return stride(from: 0, to: ids.count, by: columns).map { Array(ids[$0..<($0 + columns)]) }
    }
}

/// Whether `actual` is within `relativeTolerance` × max|expected| of `expected` everywhere.
func expectClose(_ actual: Tensor, _ expected: Tensor, relativeTolerance: Float = 1e-5) throws -> (error: Float, scale: Float, ok: Bool) {
    let error = try actual.maxAbsoluteDifference(to: expected)
    let scale = expected.maxAbsoluteValue
    return (error, scale, error <= relativeTolerance * scale)
}
