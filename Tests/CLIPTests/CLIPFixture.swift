import CLIP
import Foundation
import Tensor

/// The tiny parity fixture written by `tools/make_clip_fixtures.py`: a bundle of an OpenCLIP
/// model with random weights, and that model's outputs on fixed inputs.
struct CLIPFixture {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/clip-tiny")

    let bundle: ModelBundle
    let reference: SafeTensorsFile

    init(directory: URL = CLIPFixture.directory) throws {
        bundle = try ModelBundle.open(directory, requireVocabulary: false)
        reference = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("reference.safetensors"))
    }

    var imageCount: Int { reference.entry("images")?.shape.first ?? 0 }

    /// Input image `index`, `[3, size, size]`, normalised.
    func image(_ index: Int) throws -> Tensor {
        try row(index, of: "images")
    }

    /// Row `index` of the reference tensor `name` (its first dimension dropped).
    func row(_ index: Int, of name: String) throws -> Tensor {
        guard let entry = reference.entry(name) else { throw SafeTensorsError.missingTensor(name) }
        let all = try Tensor(shape: entry.shape, scalars: reference.floats(name))
        return try all.rows(index..<(index + 1)).reshaped(to: Array(entry.shape.dropFirst()))
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
