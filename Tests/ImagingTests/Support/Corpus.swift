import Foundation
import Testing
@testable import Imaging

/// The parity corpus written by tools/make_imaging_corpus.py: inputs, Pillow's results and
/// the manifest that ties them together.
enum Corpus {
    struct Manifest: Decodable {
        let size: Int
        let pillow: String
        let tensorCase: String
        let cases: [Case]

        enum CodingKeys: String, CodingKey {
            case size, pillow, cases
            case tensorCase = "tensor_case"
        }
    }

    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        let name: String
        let input: String
        let format: String
        let mode: String
        let width: Int
        let height: Int
        let expected: String
        let decodedCRC32: UInt32
        let palette: [UInt8]?
        let note: String

        enum CodingKeys: String, CodingKey {
            case name, input, format, mode, width, height, expected, palette, note
            case decodedCRC32 = "decoded_crc32"
        }

        var testDescription: String { name }
    }

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/imaging")

    static let manifest: Manifest? = {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("manifest.json")) else { return nil }
        return try? JSONDecoder().decode(Manifest.self, from: data)
    }()

    static var cases: [Case] { manifest?.cases ?? [] }

    static func bytes(_ relativePath: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(relativePath)))
    }

    static func floats(_ relativePath: String) throws -> [Float] {
        let data = try Data(contentsOf: directory.appendingPathComponent(relativePath))
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    static func decode(_ relativePath: String) throws -> DecodedImage {
        try ImageDecoder.decode(bytes(relativePath))
    }

    /// Pillow's expected 240×240 RGB result for a case, stored as an 8-bit RGB PNG.
    static func expectedRGB(_ testCase: Case) throws -> [UInt8] {
        let image = try decode(testCase.expected)
        guard image.mode == .rgb, case .uint8(let pixels) = image.samples else {
            throw ImageDecodeError.corrupt(format: .png, detail: "expected image \(testCase.expected) is not 8-bit RGB")
        }
        return pixels
    }
}
