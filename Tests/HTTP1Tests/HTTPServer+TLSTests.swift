import Foundation
import Testing
@testable import HTTP1

/// HTTPS over real loopback sockets, against the clients people use: curl, Python's `ssl`
/// and `openssl s_client`, plus raw sockets for clients that misbehave.
@Suite(.serialized) struct HTTPServerTLSTests {
    /// Runs `body` against a started HTTPS server with fresh files, removed afterwards.
    private func withTLSServer(
        handshakeTimeout: Duration = .seconds(5),
        _ body: (HTTPServer, Int, TLSFiles) async throws -> Void
    ) async throws {
        let files = try await TLSFiles.make()
        defer { files.remove() }
        let configuration = testConfiguration { $0.tls = files.configuration(handshakeTimeout: handshakeTimeout) }
        try await withServer(configuration) { server, port in
            try await body(server, port, files)
        }
    }

    /// Whether an HTTPS request from curl gets the echo handler's answer.
    private func curlWorks(port: Int, path: String = "/after") async throws -> Bool {
        let result = try await ExternalCommand.run(["curl", "-sk", "--http1.1", "--max-time", "10", "https://127.0.0.1:\(port)\(path)"])
        return result.succeeded && result.output == "GET \(path) - "
    }

    // MARK: - Clients that behave

    @Test func curlGetsTheAnswerTwiceOnOneConnection() async throws {
        try await withTLSServer { _, port, _ in
            let result = try await ExternalCommand.run([
                "curl", "-sk", "--http1.1", "--max-time", "10", "-w", "|%{num_connects}\\n",
                "https://127.0.0.1:\(port)/first?a=1", "https://127.0.0.1:\(port)/second",
            ])
            #expect(result.succeeded, "curl: \(result.errorOutput)")
            // num_connects is 0 for the second: it reused the first connection.
            #expect(result.output == "GET /first a=1 |1\nGET /second - |0\n")
        }
    }

    @Test func pythonNegotiatesHTTP11OverALPN() async throws {
        try await withTLSServer { _, port, files in
            let offered = try await ExternalCommand.run(TLSClientScript.arguments(port: port, alpn: ["h2", "http/1.1"]), stdin: "/alpn\n")
            let lines = offered.output.split(separator: "\n").map(String.init)
            let fingerprint = try await files.fingerprint()
            #expect(lines == ["alpn=http/1.1 version=TLSv1.3 peer=\(fingerprint)", "status=200 body=GET /alpn - "], "\(offered.errorOutput)")

            // A client that wants only a protocol this server does not speak is refused
            // (RFC 7301 §3.2); one that offers none is served.
            let h2Only = try await ExternalCommand.run(TLSClientScript.arguments(port: port, alpn: ["h2"]), stdin: "/h2\n")
            #expect(h2Only.output.hasPrefix("handshake-failed"), "\(h2Only.output)")
            let none = try await ExternalCommand.run(TLSClientScript.arguments(port: port), stdin: "/none\n")
            #expect(none.output.hasSuffix("status=200 body=GET /none - \n"), "\(none.output)")
            #expect(none.output.hasPrefix("alpn=None "))
        }
    }

    @Test func onlyTLS12And13AreAccepted() async throws {
        try await withTLSServer { _, port, _ in
            func sClient(_ version: String) async throws -> CommandResult {
                // SECLEVEL=0 lets the client itself try TLS 1.1, so the refusal is the server's.
                try await ExternalCommand.run(
                    ["openssl", "s_client", "-connect", "127.0.0.1:\(port)", version, "-cipher", "DEFAULT@SECLEVEL=0"],
                    environment: ["OPENSSL_CONF": "/dev/null"]
                )
            }
            let old = try await sClient("-tls1_1")
            #expect(!old.succeeded)
            #expect(old.errorOutput.contains("protocol version"), "the server refused it: \(old.errorOutput)")
            let tls12 = try await sClient("-tls1_2")
            #expect(tls12.succeeded, "\(tls12.errorOutput)")
            #expect(tls12.output.contains("Protocol  : TLSv1.2"))
            let tls13 = try await sClient("-tls1_3")
            #expect(tls13.succeeded, "\(tls13.errorOutput)")
            #expect(tls13.output.contains("TLSv1.3"))
        }
    }

    @Test func aKeyUpdateFromTheClientIsAnsweredAndTheConnectionGoesOn() async throws {
        try await withTLSServer { _, port, _ in
            let client = try ExternalCommand(["openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-tls1_3", "-crlf"])
            while let line = await client.readLine(), !line.hasPrefix("Verify return code") {}
            // "K" asks s_client for a KeyUpdate that requests one back (RFC 8446 §4.6.3): the
            // server has to write while it reads.
            client.write("K\n")
            try await Task.sleep(for: .milliseconds(200))
            client.write("GET /after-key-update HTTP/1.1\nHost: h\nConnection: close\n\n")
            let result = await client.finish()
            #expect(result.errorOutput.contains("KEYUPDATE"))
            #expect(result.output.contains("HTTP/1.1 200 OK"))
            #expect(result.output.contains("GET /after-key-update - "), "\(result.output)")
        }
    }

    @Test func largeBodiesTravelBothWaysOverTLS() async throws {
        let handler: HTTPHandler = { request in HTTPResponse(body: request.body) }
        let files = try await TLSFiles.make()
        defer { files.remove() }
        // Larger than the socket buffers both ways, so reads and writes both block part-way.
        let upload = files.directory + "/upload.bin"
        let block = (0..<251).map { UInt8($0) }
        try Data((0..<(6 * 1024 * 1024 / 251)).flatMap { _ in block }).write(to: URL(fileURLWithPath: upload))
        let configuration = testConfiguration { $0.tls = files.configuration() }
        try await withServer(configuration, handler: handler) { _, port in
            let result = try await ExternalCommand.run([
                "sh", "-c",
                "curl -sk --http1.1 --max-time 20 --data-binary @\(upload) -H 'Content-Type: application/octet-stream' "
                    + "https://127.0.0.1:\(port)/echo | cmp - \(upload) && echo same",
            ])
            #expect(result.output == "same\n", "\(result.output) \(result.errorOutput)")
        }
    }

    // MARK: - Clients that do not

    @Test func plainHTTPToTheTLSPortIsToldToUseHTTPS() async throws {
        try await withTLSServer { _, port, _ in
            let client = try await RawClient.connect(to: port)
            try await client.send("GET /plain HTTP/1.1\r\nHost: h\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 400)
            #expect(response.headers["Connection"] == "close")
            #expect(response.headers["Content-Type"] == "application/json")
            #expect(response.text == #"{"error":{"code":"https_required","message":"This port speaks HTTPS; use https://."}}"#)
            #expect(await client.waitForClose() == .closed(extraBytes: 0))
            #expect(try await curlWorks(port: port))
        }
    }

    @Test func aClientThatSendsNothingIsClosedAfterTheHandshakeTimeout() async throws {
        try await withTLSServer(handshakeTimeout: .milliseconds(300)) { server, port, _ in
            let started = ContinuousClock.now
            let client = try await RawClient.connect(to: port)
            #expect(await client.waitForClose(timeout: .seconds(5)) == .closed(extraBytes: 0))
            #expect(ContinuousClock.now - started >= .milliseconds(250))
            #expect(await eventually { server.openConnectionCount == 0 })
        }
    }

    @Test func aClientThatStallsMidHandshakeIsClosedAfterTheHandshakeTimeout() async throws {
        try await withTLSServer(handshakeTimeout: .milliseconds(300)) { server, port, _ in
            let client = try await RawClient.connect(to: port)
            // The start of a ClientHello: a handshake record of 512 bytes, of which 9 arrive.
            try await client.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC])
            let started = ContinuousClock.now
            #expect(await client.waitForClose(timeout: .seconds(5)) == .closed(extraBytes: 0))
            #expect(ContinuousClock.now - started >= .milliseconds(200))
            #expect(await eventually { server.openConnectionCount == 0 })
        }
    }

    @Test func abruptClosesMidHandshakeLeaveTheServerServing() async throws {
        try await withTLSServer { server, port, _ in
            let leaving = try await RawClient.connect(to: port)
            try await leaving.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC])
            await leaving.close()
            let resetting = try await RawClient.connect(to: port)
            try await resetting.send([0x16, 0x03, 0x01, 0x02, 0x00])
            await resetting.reset()
            let silent = try await RawClient.connect(to: port)
            await silent.close()
            // Garbage that is neither TLS nor HTTP fails the handshake.
            let garbage = try await RawClient.connect(to: port)
            try await garbage.send([0x16, 0x03, 0x01, 0x00, 0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
            #expect(await garbage.waitForClose() != .stillOpen)
            #expect(try await curlWorks(port: port))
            #expect(await eventually { server.openConnectionCount == 0 })
        }
    }

    @Test func anAbruptCloseMidBodyLeavesTheServerServing() async throws {
        try await withTLSServer { server, port, _ in
            let result = try await ExternalCommand.run(TLSClientScript.arguments(port: port, mode: "abort-body"))
            #expect(result.output.hasSuffix("aborted\n"), "\(result.output) \(result.errorOutput)")
            #expect(try await curlWorks(port: port))
            #expect(await eventually { server.openConnectionCount == 0 })
        }
    }

    // MARK: - Reloading

    @Test func reloadServesTheNewCertificateToNewConnectionsOnly() async throws {
        try await withTLSServer { server, port, files in
            let oldFingerprint = try await files.fingerprint()
            let kept = try ExternalCommand(TLSClientScript.arguments(port: port))
            kept.write("/before\n")
            #expect(await kept.readLine() == "alpn=None version=TLSv1.3 peer=\(oldFingerprint)")
            #expect(await kept.readLine() == "status=200 body=GET /before - ")

            try await files.regenerate()
            let newFingerprint = try await files.fingerprint()
            #expect(newFingerprint != oldFingerprint)
            try server.reloadTLS()

            // The open connection carries on with its session.
            kept.write("/after-reload\n")
            #expect(await kept.readLine() == "status=200 body=GET /after-reload - ")
            kept.closeInput()
            #expect(await kept.finish().succeeded)

            let fresh = try await ExternalCommand.run(TLSClientScript.arguments(port: port), stdin: "/new\n")
            #expect(fresh.output == "alpn=None version=TLSv1.3 peer=\(newFingerprint)\nstatus=200 body=GET /new - \n")
        }
    }

    @Test func aFailedReloadKeepsTheCurrentCertificate() async throws {
        try await withTLSServer { server, port, files in
            let fingerprint = try await files.fingerprint()
            try Data("not a key".utf8).write(to: URL(fileURLWithPath: files.key))
            #expect(throws: TLSError.invalidPrivateKey(path: files.key, reason: "it holds no PEM block (-----BEGIN …-----)")) {
                try server.reloadTLS()
            }
            let after = try await ExternalCommand.run(TLSClientScript.arguments(port: port), stdin: "/still\n")
            #expect(after.output == "alpn=None version=TLSv1.3 peer=\(fingerprint)\nstatus=200 body=GET /still - \n")
        }
    }

    @Test func reloadingAServerWithoutTLSSaysSo() async throws {
        try await withServer { server, _ in
            #expect(throws: TLSError.notConfigured) { try server.reloadTLS() }
        }
    }

    // MARK: - Start-up errors

    /// The error `start` throws for `configuration`, or nil if it started.
    private func startError(_ tls: TLSConfiguration) async -> HTTPServerError? {
        let server = HTTPServer(configuration: testConfiguration { $0.tls = tls }, handler: echoHandler)
        do {
            try server.start()
        } catch {
            return error
        }
        await server.shutdown(gracePeriod: .zero)
        return nil
    }

    @Test func aMissingCertificateIsNamed() async throws {
        let files = try await TLSFiles.make()
        defer { files.remove() }
        let missing = files.directory + "/missing.pem"
        let error = await startError(TLSConfiguration(certificateChainFile: missing, privateKeyFile: files.key))
        #expect(error == .tlsSetupFailed(.unreadableFile(role: .certificateChain, path: missing, reason: "No such file or directory")))
        #expect(error?.description.contains(missing) == true)
    }

    @Test func anUnreadableKeyIsNamed() async throws {
        let files = try await TLSFiles.make()
        defer { files.remove() }
        let missing = files.directory + "/missing-key.pem"
        let error = await startError(TLSConfiguration(certificateChainFile: files.certificate, privateKeyFile: missing))
        #expect(error == .tlsSetupFailed(.unreadableFile(role: .privateKey, path: missing, reason: "No such file or directory")))
        // Permissions do not stop root, so that case runs only for other users.
        if getuid() != 0 {
            chmod(files.key, 0)
            let denied = await startError(files.configuration())
            #expect(denied == .tlsSetupFailed(.unreadableFile(role: .privateKey, path: files.key, reason: "Permission denied")))
        }
    }

    @Test func aFileOfTheWrongKindIsNamed() async throws {
        let files = try await TLSFiles.make()
        defer { files.remove() }
        let swapped = await startError(TLSConfiguration(certificateChainFile: files.key, privateKeyFile: files.certificate))
        guard case .tlsSetupFailed(.invalidCertificateChain(let path, let reason)) = swapped else {
            Issue.record("got \(String(describing: swapped))")
            return
        }
        #expect(path == files.key)
        #expect(reason.contains("no start line"), "\(reason)")
    }

    @Test func anEncryptedKeyIsRefusedWithoutAskingForAPassphrase() async throws {
        let files = try await TLSFiles.make()
        defer { files.remove() }
        let encrypted = files.directory + "/encrypted.pem"
        let result = try await ExternalCommand.run(["openssl", "pkey", "-in", files.key, "-aes256", "-passout", "pass:secret", "-out", encrypted])
        #expect(result.succeeded, "\(result.errorOutput)")
        let error = await startError(TLSConfiguration(certificateChainFile: files.certificate, privateKeyFile: encrypted))
        #expect(error == .tlsSetupFailed(.invalidPrivateKey(
            path: encrypted, reason: "the key is encrypted with a passphrase (decrypt it with `openssl pkey -in KEY -out PLAIN`)"
        )))
    }

    @Test func aKeyThatDoesNotMatchTheCertificateIsNamed() async throws {
        let files = try await TLSFiles.make()
        let other = try await TLSFiles.make()
        defer {
            files.remove()
            other.remove()
        }
        let error = await startError(TLSConfiguration(certificateChainFile: files.certificate, privateKeyFile: other.key))
        guard case .tlsSetupFailed(.keyDoesNotMatchCertificate(let keyPath, let certificatePath, let reason)) = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(keyPath == other.key && certificatePath == files.certificate)
        #expect(reason.contains("key values mismatch"))
        #expect(error?.description.contains(other.key) == true)
    }
}
