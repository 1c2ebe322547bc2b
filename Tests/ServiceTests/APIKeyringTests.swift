import Foundation
import Tensor
import Testing
@testable import Service

/// The keys file and the keyring: only digests stored, ids checked, keys found by their
/// text in constant time, reloads keep the old keys when the file is broken.
@Suite struct APIKeyringTests {
    @Test func createdKeysAreStoredOnlyAsDigestsAndFoundByTheirText() throws {
        let directory = try PromptSetTestData.scratchDirectory("keys")
        let path = directory.appendingPathComponent("keys.json").path
        var file = try APIKeyFile.read(path, missingIsEmpty: true)
        let scorer = try file.create(id: "line-3", scopes: [.score])
        let admin = try file.create(id: "qa.admin", scopes: [.admin, .score, .admin])
        try file.write(to: path)

        // At least 128 random bits, URL-safe, distinct.
        for key in [scorer, admin] {
            #expect(key.hasPrefix("ik_") && key.utf8.count >= 3 + 43)
            #expect(key.dropFirst(3).allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        }
        #expect(scorer != admin)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains(scorer) && !text.contains(admin))
        #expect(text.contains(SHA256.hex(Array(scorer.utf8))))
        let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)

        let keyring = try APIKeyring(path: path)
        #expect(keyring.key(for: scorer)?.id == "line-3")
        #expect(keyring.key(for: admin)?.scopes == [.score, .admin])
        #expect(keyring.key(for: scorer + "x") == nil && keyring.key(for: "") == nil)
        #expect(keyring.key(for: scorer)?.allows(.admin) == false)
        #expect(keyring.key(for: admin)?.allows(.score) == true)

        #expect(throws: APIKeyFileError.duplicateID("line-3")) { _ = try file.create(id: "line-3", scopes: [.score]) }
        #expect(throws: APIKeyFileError.invalidID("bad id")) { _ = try file.create(id: "bad id", scopes: [.score]) }
        #expect(throws: APIKeyFileError.noScopes) { _ = try file.create(id: "none", scopes: []) }

        // Revoked and reloaded: the key is refused; a broken file keeps the keys in use.
        try file.revoke(id: "line-3")
        try file.write(to: path)
        #expect(try keyring.reload() == 1)
        #expect(keyring.key(for: scorer) == nil && keyring.key(for: admin) != nil)
        try Data("{".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: (any Error).self) { try keyring.reload() }
        #expect(keyring.key(for: admin) != nil)
    }

    @Test func constantTimeComparisonLooksAtEveryByte() {
        #expect(APIKeyring.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!APIKeyring.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!APIKeyring.constantTimeEqual(Array("xbc".utf8), Array("abc".utf8)))
        #expect(!APIKeyring.constantTimeEqual(Array("ab".utf8), Array("abc".utf8)))
    }

    @Test func aBrokenKeysFileIsATypedError() throws {
        let directory = try PromptSetTestData.scratchDirectory("keys-bad")
        let path = directory.appendingPathComponent("keys.json").path
        #expect(throws: (any Error).self) { try APIKeyring(path: path) }
        try Data(#"{"format": "other", "keys": []}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect { try APIKeyring(path: path) } throws: { error in
            guard case .invalid = error as? APIKeyFileError else { return false }
            return "\(error)".contains("inctrl-api-keys/1")
        }
    }

    @Test func rateLimitRefillsAtItsRate() {
        let limiter = RateLimiter(rate: 2, burst: 3)
        let start: UInt64 = 1_000_000_000
        for _ in 0..<3 { #expect(limiter.take(for: "a", now: start) == nil) }
        #expect(limiter.take(for: "a", now: start) == 1)
        #expect(limiter.take(for: "b", now: start) == nil, "each client has its own bucket")
        #expect(limiter.take(for: "a", now: start + 500_000_000) == nil, "half a second at 2/s gives one token")
        #expect(limiter.take(for: "a", now: start + 500_000_000) != nil)
    }
}
