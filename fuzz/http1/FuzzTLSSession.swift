// libFuzzer target for the server's TLS read path, compiled together with HTTP1's TLS
// sources by `scripts/fuzz-http1 tls` (a SwiftPM executable would bring its own
// `main`). Each input runs over a real non-blocking socket pair: the server side is a
// `TLSSession` from a `TLSContext`, exactly as a connection has one; the client side is a
// plain OpenSSL client in this process.
//
// The first byte picks what the rest of the input is:
//   0: raw bytes a client sends instead of a ClientHello: the handshake may block or fail,
//      and must never complete (there is no one to finish it).
//   1: raw bytes injected after a real handshake, bypassing the client's encryption: no
//      plaintext may come out of forged records.
//   2, 3: plaintext the client sends through its session, split into records of varying
//      size and read by the server into buffers of varying size (small ones leave plaintext
//      buffered in OpenSSL): the server must read back exactly those bytes, and the client's
//      close_notify (2) or abrupt close (3) must end the stream.
// Bit 2 of the first byte limits the client to TLS 1.2; otherwise it speaks TLS 1.3.
//
// Only the Swift code is instrumented, not the system's OpenSSL, so coverage steers the
// fuzzer through this harness's and TLSSession's paths; the bytes OpenSSL sees are found by
// mutation alone.

import COpenSSL
import Glibc

/// The server's context, from the throwaway certificate and key `scripts/fuzz-http1`
/// writes into the directory named by HTTP1_FUZZ_TLS_DIR.
private let serverContext: TLSContext = {
    guard let directory = getenv("HTTP1_FUZZ_TLS_DIR").map({ String(cString: $0) }) else {
        fatalError("HTTP1_FUZZ_TLS_DIR must name a directory holding c.pem and k.pem (scripts/fuzz-http1 tls sets it)")
    }
    do {
        return try TLSContext(configuration: TLSConfiguration(
            certificateChainFile: directory + "/c.pem", privateKeyFile: directory + "/k.pem"
        ))
    } catch {
        fatalError("\(error)")
    }
}()

/// OpenSSL writes with write(2): a write to a peer that has gone must fail with EPIPE, as it
/// does in the server (`HTTPServer.start`), rather than end the process.
private let pipeSignalIgnored: Void = {
    signal(SIGPIPE, SIG_IGN)
}()

/// A client context that does not verify the server and speaks only `version`.
private func makeClientContext(version: Int32) -> OpaquePointer {
    guard let context = SSL_CTX_new(TLS_client_method()),
          copenssl_ctx_set_protocol_range(context, version, version) == 1
    else { fatalError("cannot make a client context: \(OpenSSLErrorQueue.drain())") }
    SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
    return context
}

private let clientContext13 = makeClientContext(version: copenssl_tls1_3_version)
private let clientContext12 = makeClientContext(version: copenssl_tls1_2_version)

/// A small deterministic generator, so a crashing input replays exactly.
private struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    mutating func next(below bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }
}

/// Writes all of `bytes` to a non-blocking socket whose peer is not reading yet; the input
/// is far smaller than a socket pair's buffer.
private func writeRaw(_ socket: Int32, _ bytes: ArraySlice<UInt8>) {
    var offset = bytes.startIndex
    while offset < bytes.endIndex {
        let written = bytes[offset...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        precondition(written > 0, "the socket pair did not take \(bytes.count) bytes")
        offset += written
    }
}

/// Runs the client's and the server's handshakes against each other until both are done.
private func handshake(client: OpaquePointer, server: TLSSession) {
    var clientDone = false
    var serverDone = false
    for _ in 0..<64 where !(clientDone && serverDone) {
        if !clientDone {
            OpenSSLErrorQueue.clear()
            let result = SSL_do_handshake(client)
            if result == 1 {
                clientDone = true
            } else {
                let error = SSL_get_error(client, result)
                precondition(error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE, "client handshake failed: \(OpenSSLErrorQueue.drain())")
            }
        }
        if !serverDone {
            switch server.handshake() {
            case .complete: serverDone = true
            case .blocked: break
            case .failed: preconditionFailure("server handshake failed against a well-behaved client")
            }
        }
    }
    precondition(clientDone && serverDone, "the handshake did not finish")
}

/// Reads from the server session until it blocks or the stream ends, into buffers whose
/// sizes `sizes` picks; returns whether the stream ended.
private func drain(_ server: TLSSession, into received: inout [UInt8], sizes: inout SplitMix64) -> Bool {
    while true {
        let capacity = sizes.next(below: 3) == 0 ? 1 + sizes.next(below: 64) : 1 + sizes.next(below: 20_000)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 1)
        defer { buffer.deallocate() }
        switch server.read(into: buffer) {
        case .transferred(let count):
            precondition(count > 0 && count <= capacity, "read reported \(count) bytes into \(capacity)")
            received.append(contentsOf: buffer[0..<count])
        case .blocked:
            return false
        case .closed:
            return true
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTLSSession(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    _ = pipeSignalIgnored
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let mode = input[0] & 3
    let payload = input[1...]
    var seed: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in input { seed = (seed ^ UInt64(byte)) &* 0x100_0000_01B3 }
    var random = SplitMix64(state: seed)

    var pair: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { fatalError("socketpair failed") }
    let (serverSocket, clientSocket) = (pair[0], pair[1])
    defer {
        close(serverSocket)
        close(clientSocket)
    }
    for socket in pair { _ = fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) | O_NONBLOCK) }
    guard let server = serverContext.makeSession(socket: serverSocket) else { fatalError("SSL_new failed") }

    if mode == 0 {
        writeRaw(clientSocket, payload)
        if random.next(below: 2) == 0 { shutdown(clientSocket, Int32(SHUT_WR)) }
        for _ in 0..<4 {
            switch server.handshake() {
            case .complete: preconditionFailure("a handshake completed with no client to finish it")
            case .blocked, .failed: continue
            }
        }
        return 0
    }

    guard let client = SSL_new(input[0] & 4 == 0 ? clientContext13 : clientContext12) else { fatalError("SSL_new failed") }
    defer { SSL_free(client) }
    SSL_set_fd(client, clientSocket)
    SSL_set_connect_state(client)
    handshake(client: client, server: server)

    var received: [UInt8] = []
    if mode == 1 {
        writeRaw(clientSocket, payload)
        shutdown(clientSocket, Int32(SHUT_WR))
        _ = drain(server, into: &received, sizes: &random)
        precondition(received.isEmpty, "forged records yielded \(received.count) bytes of plaintext")
        return 0
    }

    let plaintext = Array(payload)
    var offset = 0
    while offset < plaintext.count {
        let piece = min(plaintext.count - offset, 1 + random.next(below: random.next(below: 4) == 0 ? 20_000 : 300))
        var written = 0
        OpenSSLErrorQueue.clear()
        let result = plaintext[offset..<offset + piece].withUnsafeBytes { SSL_write_ex(client, $0.baseAddress, $0.count, &written) }
        precondition(result == 1, "the client could not write: \(OpenSSLErrorQueue.drain())")
        offset += written
        if random.next(below: 2) == 0 {
            precondition(!drain(server, into: &received, sizes: &random), "the stream ended early")
        }
    }
    if mode == 2 {
        OpenSSLErrorQueue.clear()
        _ = SSL_shutdown(client)
    } else {
        shutdown(clientSocket, Int32(SHUT_RDWR))
    }
    OpenSSLErrorQueue.clear()
    precondition(drain(server, into: &received, sizes: &random), "the end of the stream was not noticed")
    precondition(received == plaintext, "read back \(received.count) bytes, not the \(plaintext.count) sent")
    server.sendCloseNotify()
    return 0
}
