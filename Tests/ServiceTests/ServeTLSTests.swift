import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `inctrl serve` with `tls_cert_file` and `tls_key_file`: HTTPS answered, ALPN http/1.1,
/// plain HTTP refused, SIGHUP reloading the certificate, and a clear start error for a key
/// that does not match.
@Suite(.serialized) struct ServeTLSTests {
    /// Runs `command` and returns its standard output (standard error discarded).
    static func run(_ command: [String], input: String? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    /// A self-signed certificate and key for localhost in `directory`, named `name`.
    static func certificate(_ directory: URL, _ name: String) throws -> (cert: String, key: String) {
        let cert = directory.appendingPathComponent("\(name).crt").path, key = directory.appendingPathComponent("\(name).key").path
        let made = try run([
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-keyout", key, "-out", cert,
        ])
        #expect(made.status == 0)
        return (cert, key)
    }

    static func fingerprint(port: Int) throws -> String {
        let session = try run(["openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-alpn", "http/1.1"], input: "")
        let pem = try run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"], input: session.output)
        return pem.output
    }

    @Test func servesHTTPSAndReloadsTheCertificateOnSIGHUP() async throws {
        let directory = try PromptSetTestData.scratchDirectory("serve-tls")
        let first = try Self.certificate(directory, "first"), second = try Self.certificate(directory, "second")
        let cert = directory.appendingPathComponent("server.crt").path, key = directory.appendingPathComponent("server.key").path
        try FileManager.default.copyItem(atPath: first.cert, toPath: cert)
        try FileManager.default.copyItem(atPath: first.key, toPath: key)
        let server = try ServerProcess(
            model: try InCTRLServiceTests.bundle.get(), dataDirectory: directory.appendingPathComponent("data"),
            environment: ["INCTRL_TLS_CERT_FILE": cert, "INCTRL_TLS_KEY_FILE": key])
        try await server.waitUntilListening()
        let port = try #require(server.port)

        let health = try Self.run(["curl", "-sk", "--http1.1", "https://127.0.0.1:\(port)/healthz"])
        #expect(health.output == #"{"status":"ok"}"#)
        let alpn = try Self.run(["openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-alpn", "h2,http/1.1"], input: "")
        #expect(alpn.output.contains("ALPN protocol: http/1.1"))
        let plain = try Self.run(["curl", "-s", "http://127.0.0.1:\(port)/healthz"])
        #expect(plain.output.contains("https_required"))

        let before = try Self.fingerprint(port: port)
        try FileManager.default.removeItem(atPath: cert)
        try FileManager.default.removeItem(atPath: key)
        try FileManager.default.copyItem(atPath: second.cert, toPath: cert)
        try FileManager.default.copyItem(atPath: second.key, toPath: key)
        kill(server.process.processIdentifier, SIGHUP)
        var after = before
        for _ in 0..<50 where after == before {
            try await Task.sleep(for: .milliseconds(100))
            after = try Self.fingerprint(port: port)
        }
        #expect(!before.isEmpty && after != before, "the certificate did not change after SIGHUP")
        #expect(try await server.stop(with: SIGTERM).status == 0)
    }

    @Test func aKeyThatDoesNotMatchTheCertificateStopsTheStartNamingTheFiles() throws {
        let directory = try PromptSetTestData.scratchDirectory("serve-tls-bad")
        let first = try Self.certificate(directory, "first"), second = try Self.certificate(directory, "second")
        let refused = try ServerProcess.run(["serve"], environment: [
            "INCTRL_HOST": "127.0.0.1", "INCTRL_PORT": "0", "INCTRL_MODEL": try InCTRLServiceTests.bundle.get().path,
            "INCTRL_DATA_DIR": directory.appendingPathComponent("data").path,
            "INCTRL_TLS_CERT_FILE": first.cert, "INCTRL_TLS_KEY_FILE": second.key,
        ])
        #expect(!refused.succeeded && refused.output.contains(second.key) && refused.output.contains(first.cert), "\(refused.output.suffix(400))")
        let half = try ServerProcess.run(["serve"], environment: ["INCTRL_TLS_CERT_FILE": first.cert])
        #expect(!half.succeeded && half.output.contains("tls_key_file"))
    }
}
