import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A client that writes raw bytes to a loopback port and reads one response back, for the
/// requests a URL session will not send (malformed framing, unknown methods, stalls).
///
/// Reading waits on a thread of its own, never on Swift's cooperative pool: the service
/// under test answers from that pool, which has one thread per core, so two tests blocked
/// in a read there could keep the very answers they wait for from being made.
final class LoopbackClient: @unchecked Sendable {
    /// A response as read from the socket.
    struct Response {
        var status: Int
        /// Header names lower-cased.
        var headers: [String: String]
        var body: [UInt8]

        /// The `code` of a JSON error body.
        var errorCode: String? {
            let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
            return (object?["error"] as? [String: Any])?["code"] as? String
        }
    }

    private let socket: Int32
    private var buffered: [UInt8] = []

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socket)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
    }

    deinit { close(socket) }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            offset += written
        }
    }

    /// Reads one response (head, then `Content-Length` bytes, or up to the close), waiting
    /// at most `seconds` in all, on a thread outside the cooperative pool.
    func readResponse(seconds: Double = 10) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { [self] in
                continuation.resume(with: Result { try blockingReadResponse(seconds: seconds) })
            }
        }
    }

    private func blockingReadResponse(seconds: Double) throws -> Response {
        let deadline = Date().addingTimeInterval(seconds)
        func fill() throws -> Bool {
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let wait = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            guard poll(&descriptor, 1, wait) > 0 else { throw POSIXError(.ETIMEDOUT) }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = recv(socket, &chunk, chunk.count, 0)
            guard count > 0 else { return false }
            buffered += chunk[..<count]
            return true
        }
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            headEnd = buffered.firstRange(of: separator)?.upperBound
            if headEnd == nil, try !fill() { throw POSIXError(.ECONNRESET) }
        }
        let head = String(decoding: buffered[..<headEnd!], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(head[0].split(separator: " ")[1]) ?? 0
        var headers: [String: String] = [:]
        for line in head.dropFirst() where line.contains(":") {
            let parts = line.split(separator: ":", maxSplits: 1)
            headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        buffered.removeFirst(headEnd!)
        if let length = headers["content-length"].flatMap(Int.init) {
            while buffered.count < length { if try !fill() { break } }
            let body = Array(buffered.prefix(length))
            buffered.removeFirst(min(length, buffered.count))
            return Response(status: status, headers: headers, body: body)
        }
        while try fill() {}
        defer { buffered = [] }
        return Response(status: status, headers: headers, body: buffered)
    }
}
