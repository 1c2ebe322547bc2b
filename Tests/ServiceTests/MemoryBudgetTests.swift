import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A real `inctrl serve` under 200 clients that each start a 30 MB upload and stall: the
/// in-flight body budget keeps its memory bounded, `/healthz` stays quick, and scoring works
/// once they are gone.
@Suite(.serialized) struct MemoryBudgetTests {
    static func residentMiB(_ pid: Int32) -> Double {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Double(line.split(separator: " ").dropFirst().first ?? "0").map { $0 / 1024 } ?? 0
    }

    @Test func stalledUploadsStayWithinTheBudget() async throws {
        let budget = 96 << 20
        let directory = try PromptSetTestData.scratchDirectory("memory-budget")
        let server = try ServerProcess(
            model: try InCTRLServiceTests.bundle.get(), dataDirectory: directory.appendingPathComponent("data"),
            environment: ["INCTRL_MAX_INFLIGHT_BODY_BYTES": "\(budget)", "INCTRL_BODY_TIMEOUT_S": "120"])
        try await server.waitUntilReady()
        let port = try #require(server.port)
        let pid = server.process.processIdentifier
        let before = Self.residentMiB(pid)
        let image = try InCTRLServiceTests.cell("0004_functional")
        let registration = [UInt8](try JSONSerialization.data(withJSONObject: ["images": [Data(image).base64EncodedString()]]))
        let registered = try await server.send("POST", "/prompts", body: registration, contentType: "application/json")
        let id = try #require((try registered.object())["id"] as? String)

        // 200 uploads of 30 MB each; those the budget admits send their whole body but the
        // last byte, and stall.
        let declared = 30 << 20
        let chunk = [UInt8](repeating: 0x55, count: 1 << 20)
        var clients: [LoopbackClient] = []
        var refused = 0, admitted = 0
        for _ in 0..<200 {
            let client = try LoopbackClient(port: port)
            try client.send("POST /score?prompt_set=\(id) HTTP/1.1\r\nHost: h\r\nContent-Type: image/png\r\nContent-Length: \(declared)\r\n\r\n")
            if let answer = try? client.readResponse(seconds: 0.05) {
                #expect(answer.status == 503 && answer.errorCode == "body_budget_exhausted" && answer.headers["retry-after"] != nil)
                refused += 1
            } else {
                for _ in 0..<29 { try client.send(chunk) }
                try client.send(Array(chunk.dropLast()))
                admitted += 1
            }
            clients.append(client)
        }
        let peak = Self.residentMiB(pid)
        #expect(admitted >= 1 && admitted <= budget / declared && refused == 200 - admitted, "admitted \(admitted), refused \(refused)")
        #expect(peak < before + Double(budget >> 20) + 300, "RSS \(before) → \(peak) MiB")

        // The probe stays quick while the uploads stall.
        let started = Date()
        let probe = try LoopbackClient(port: port)
        try probe.send("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(try probe.readResponse(seconds: 5).status == 200)
        #expect(Date().timeIntervalSince(started) < 0.1, "healthz took \(Date().timeIntervalSince(started)) s")

        clients.removeAll()
        try await Task.sleep(for: .milliseconds(300))
        let scored = try await server.send("POST", "/score?prompt_set=\(id)", body: try InCTRLServiceTests.cell("0001_defective"), contentType: "image/png")
        #expect(scored.status == 200)
        print("memory budget: RSS \(before) → \(peak) MiB with \(admitted) uploads admitted and \(refused) refused (budget \(budget >> 20) MiB)")
        #expect(try await server.stop(with: SIGTERM).status == 0)
    }
}
