import Foundation
import Tensor
import Testing

/// `inctrl keys create | list | revoke` as an operator runs them.
@Suite struct KeysCommandTests {
    @Test func createPrintsTheKeyOnceListShowsIdsRevokeRemoves() throws {
        let file = try PromptSetTestData.scratchDirectory("keys-cli").appendingPathComponent("keys.json").path
        let created = try ServerProcess.run(["keys", "create", "--id", "line-3", "--scopes", "score,admin", "--file", file])
        #expect(created.succeeded)
        let key = try #require(created.output.split(separator: "\n").first { $0.hasPrefix("ik_") }.map(String.init))
        let stored = try String(contentsOfFile: file, encoding: .utf8)
        #expect(!stored.contains(key) && stored.contains(SHA256.hex(Array(key.utf8))))

        let listed = try ServerProcess.runToCompletion(["keys", "list", "--file", file])
        #expect(listed.contains("line-3\tscore,admin\t") && !listed.contains(key))

        let duplicate = try ServerProcess.run(["keys", "create", "--id", "line-3", "--file", file])
        #expect(!duplicate.succeeded && duplicate.output.contains("exists already"))
        let badScope = try ServerProcess.run(["keys", "create", "--id", "x", "--scopes", "root", "--file", file])
        #expect(!badScope.succeeded && badScope.output.contains("unknown scope 'root'"))

        try ServerProcess.runToCompletion(["keys", "revoke", "--id", "line-3", "--file", file])
        #expect(!(try ServerProcess.runToCompletion(["keys", "list", "--file", file])).contains("line-3"))
        let unknown = try ServerProcess.run(["keys", "revoke", "--id", "line-3", "--file", file])
        #expect(!unknown.succeeded && unknown.output.contains("No key has id 'line-3'"))
    }

    /// `inctrl serve` beyond loopback without keys stops at once, saying how to make one.
    @Test func serveRefusesToListenBeyondLoopbackWithoutKeys() throws {
        let refused = try ServerProcess.run(["serve"], environment: ["INCTRL_HOST": "0.0.0.0", "INCTRL_PORT": "0"])
        #expect(!refused.succeeded)
        #expect(refused.output.contains("inctrl keys create") && refused.output.contains("INCTRL_API_KEYS_FILE"))
    }
}
