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

        // 200 uploads of 30 MB each. The budget holds `budget / declared` of them: those send
        // their whole body but the last byte, and stall; every later one must be refused from
        // its head. Which ones are admitted is certain (a body is only sent once its head has
        // been read), so no answer is waited for on a clock shorter than a slow machine needs.
        let declared = 30 << 20, fitting = budget / declared
        let chunk = [UInt8](repeating: 0x55, count: 1 << 20)
        var clients: [LoopbackClient] = []
        var refused = 0, admitted = 0
        for index in 0..<200 {
            let client = try LoopbackClient(port: port)
            try client.send("POST /score?prompt_set=\(id) HTTP/1.1\r\nHost: h\r\nContent-Type: image/png\r\nContent-Length: \(declared)\r\n\r\n")
            if index < fitting {
                for _ in 0..<29 { try client.send(chunk) }
                try client.send(Array(chunk.dropLast()))
                admitted += 1
            } else {
                let answer = try await client.readResponse(seconds: 30)
                #expect(answer.status == 503 && answer.errorCode == "body_budget_exhausted" && answer.headers["retry-after"] != nil)
                refused += 1
            }
            clients.append(client)
        }
        // None of the admitted uploads was answered: they are still waiting for their last byte.
        for client in clients.prefix(fitting) {
            #expect((try? await client.readResponse(seconds: 0.2)) == nil, "an admitted upload was answered before its body ended")
        }
        let peak = Self.residentMiB(pid)
        #expect(admitted == fitting && refused == 200 - fitting, "admitted \(admitted), refused \(refused)")
        #expect(peak < before + Double(budget >> 20) + 300, "RSS \(before) → \(peak) MiB")

        // The probe is still answered while the uploads stall (how quickly is the load
        // benchmark's business, not a test's).
        let probe = try LoopbackClient(port: port)
        try probe.send("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(try await probe.readResponse(seconds: 30).status == 200)

        clients.removeAll()
        try await Task.sleep(for: .milliseconds(300))
        let scored = try await server.send("POST", "/score?prompt_set=\(id)", body: try InCTRLServiceTests.cell("0001_defective"), contentType: "image/png")
        #expect(scored.status == 200)
        print("memory budget: RSS \(before) → \(peak) MiB with \(admitted) uploads admitted and \(refused) refused (budget \(budget >> 20) MiB)")
        #expect(try await server.stop(with: SIGTERM).status == 0)
    }
}
