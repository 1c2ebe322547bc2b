import Foundation
import Testing
@testable import Service

/// The served OpenAPI document: the same bytes as `openapi.yaml`, describing every route,
/// every error code with its status, and examples whose ids the server would really return.
@Suite struct OpenAPIDocumentTests {
    static let sourceFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("openapi.yaml")

    /// Every operation the service routes, as `METHOD /path`.
    static let operations: Set<String> = [
        "GET /", "GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.yaml",
        "POST /prompts", "GET /prompts", "GET /prompts/{id}", "DELETE /prompts/{id}", "POST /prompts/{id}/calibration",
        "PUT /prompts/{id}/threshold", "DELETE /prompts/{id}/threshold", "POST /score", "POST /score/batch",
    ]

    /// The embedded document as text.
    static let text = String(decoding: OpenAPIDocument.yaml, as: UTF8.self)

    static let lines = text.split(separator: "\n", omittingEmptySubsequences: false)

    @Test func equalsTheSourceFileByteForByte() throws {
        let source = Array(try Data(contentsOf: Self.sourceFile))
        let difference = Self.firstDifference(OpenAPIDocument.yaml, source)
        #expect(
            difference == nil,
            "the embedded document differs from openapi.yaml: is Sources/Service/Resources/openapi.yaml still a link to it? SwiftPM does not see edits through the link: `touch -h` it and build again")
    }

    @Test func isAnOpenAPI3Document() {
        #expect(Self.text.hasPrefix("openapi: 3."))
        #expect(Self.lines.contains("paths:"))
        #expect(Self.lines.contains("components:"))
    }

    @Test func describesExactlyTheRoutedOperations() {
        #expect(Self.documentedOperations() == Self.operations)
    }

    @Test func errorTableGivesEveryCodeItsStatus() {
        let table = Self.errorCodesByStatus()
        for code in APIError.Code.allCases {
            #expect(table[code.status, default: []].contains(code.rawValue), "\(code.rawValue) is not listed under \(code.status)")
        }
    }

    /// The examples register a real image under a real class name, so the id they show must
    /// be the one the server derives, and every other example must use that same id.
    @Test func examplePromptSetIdIsTheOneTheServerDerives() throws {
        let example = Self.block(named: "BottlePromptSetRequest")
        let className = try #require(example.lazy.compactMap { Self.value(of: "class_name", in: $0) }.first)
        let images = try example.filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("- ") }.map { line in
            let base64 = line.trimmingCharacters(in: .whitespaces).dropFirst(2)
            return Array(try #require(Data(base64Encoded: String(base64)), "\(line) is not base64"))
        }
        #expect(!images.isEmpty)
        let id = PromptSetID(className: className, images: images).hex

        let idsShown = Self.text.matches(of: /\b[0-9a-f]{32}\b/).map { String($0.output) }
        #expect(idsShown.count >= 3)
        #expect(Set(idsShown) == [id])
    }

    /// Where two texts first differ, as a line number, or nil when they are equal.
    static func firstDifference(_ served: [UInt8], _ source: [UInt8]) -> String? {
        guard served != source else { return nil }
        let offset = zip(served, source).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? min(served.count, source.count)
        let line = served[..<offset].count { $0 == UInt8(ascii: "\n") } + 1
        return "line \(line) (the constant has \(served.count) bytes, the file \(source.count))"
    }

    /// `METHOD /path` for each operation key under `paths:`.
    static func documentedOperations() -> Set<String> {
        let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        var operations: Set<String> = []
        var inPaths = false
        var path: String?
        for line in lines {
            if !line.hasPrefix(" ") && !line.isEmpty {
                inPaths = line == "paths:"
                continue
            }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let key = String(line.dropFirst(4).dropLast())
                if methods.contains(key) { operations.insert("\(key.uppercased()) \(path)") }
            }
        }
        return operations
    }

    /// The rows `| status | codes |` of the description's error tables: each status with the
    /// codes written in backticks on its rows.
    static func errorCodesByStatus() -> [Int: Set<String>] {
        var table: [Int: Set<String>] = [:]
        for line in lines {
            let cells = line.trimmingCharacters(in: .whitespaces).split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2, let status = Int(cells[0]) else { continue }
            let codes = cells[1].matches(of: /`([a-z0-9_]+)`/).map { String($0.output.1) }
            table[status, default: []].formUnion(codes)
        }
        return table
    }

    /// The lines nested under the first key `name:` (any indentation), up to the next line
    /// indented no deeper than the key.
    static func block(named name: String) -> [String] {
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "\(name):" }) else { return [] }
        let indentation = lines[start].prefix { $0 == " " }.count
        return lines[(start + 1)...].prefix { line in
            line.trimmingCharacters(in: .whitespaces).isEmpty || line.prefix { $0 == " " }.count > indentation
        }.map(String.init)
    }

    /// The scalar after `key: ` on `line`, if the line holds that key.
    static func value(of key: String, in line: String) -> String? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("\(key): ") else { return nil }
        return String(trimmed.dropFirst(key.count + 2))
    }
}
