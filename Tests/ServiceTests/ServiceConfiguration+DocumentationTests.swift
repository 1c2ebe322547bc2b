import Foundation
import Testing
@testable import Service

/// The documentation table the README is written from matches the keys the loader reads.
@Suite struct ServiceConfigurationDocumentationTests {
    @Test func everyKeyIsDocumentedOnceWithItsVariable() {
        let documentation = ServiceConfiguration.documentation
        #expect(documentation.count == ServiceConfiguration.settings.count)
        #expect(Set(documentation.map(\.key)).count == documentation.count)
        for entry in documentation {
            #expect(entry.environmentVariable == "INCTRL_" + entry.key.uppercased())
            #expect(entry.key.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" }, "\(entry.key) is not snake_case")
            #expect(!entry.meaning.isEmpty && entry.meaning.hasSuffix("."))
            #expect(!entry.accepted.isEmpty)
        }
    }

    @Test func designNamesTheseVariables() {
        let variables = Set(ServiceConfiguration.documentation.map(\.environmentVariable))
        for required in [
            "INCTRL_HOST", "INCTRL_PORT", "INCTRL_MODEL", "INCTRL_DATA_DIR", "INCTRL_PRECISION",
            "INCTRL_MAX_BODY_BYTES", "INCTRL_HEADER_TIMEOUT_S", "INCTRL_QUEUE_SIZE", "INCTRL_LOG_FORMAT",
        ] {
            #expect(variables.contains(required), "\(required)")
        }
    }

    @Test func defaultsAreTheDefaultConfiguration() throws {
        let environment = Dictionary(uniqueKeysWithValues: ServiceConfiguration.documentation.map {
            ($0.environmentVariable, $0.defaultValue)
        })
        #expect(try ServiceConfiguration.load(file: nil, environment: environment) == ServiceConfiguration())
        let port = ServiceConfiguration.documentation.first { $0.key == "port" }
        #expect(port?.defaultValue == "8080")
        #expect(port?.accepted == "an integer from 0 to 65535")
    }

    @Test func readmeShowsTheCurrentTable() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        #expect(text.contains(ServiceConfiguration.documentationTable), "README.md's Configuration table is out of date; paste ServiceConfiguration.documentationTable")
    }

    @Test func markdownTableHasARowPerKey() {
        let lines = ServiceConfiguration.documentationTable.split(separator: "\n")
        #expect(lines.count == ServiceConfiguration.documentation.count + 2)
        #expect(lines[0] == "| key | environment variable | default | meaning |")
        #expect(lines.contains { $0.hasPrefix("| `header_timeout_s` | `INCTRL_HEADER_TIMEOUT_S` | `10` | ") })
        #expect(lines.allSatisfy { $0.filter { $0 == "|" }.count == 5 })
    }
}
