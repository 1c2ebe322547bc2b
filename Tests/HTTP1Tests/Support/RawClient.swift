import Dispatch
import Glibc
@testable import HTTP1

/// Why a raw client call failed.
enum RawClientError: Error, CustomStringConvertible {
    case connectFailed(String)
    case sendFailed(String)
    case timedOut(received: String)
    case closedEarly(received: String)
    case malformedResponse(String)

    var description: String {
        switch self {
        case .connectFailed(let reason): "connect failed: \(reason)"
        case .sendFailed(let reason): "send failed: \(reason)"
        case .timedOut(let received): "timed out; unread bytes: \(Self.excerpt(received))"
        case .closedEarly(let received): "connection closed early; unread bytes: \(Self.excerpt(received))"
        case .malformedResponse(let text): "malformed response: \(Self.excerpt(text))"
        }
    }

    /// The start of `text`, quoted; a failure with megabytes unread stays readable.
    private static func excerpt(_ text: String) -> String {
        let limit = 300
        guard text.count > limit else { return text.debugDescription }
        return String(text.prefix(limit)).debugDescription + " … (\(text.utf8.count) bytes in all)"
    }
}

/// A response as the raw client read it.
struct RawResponse {
    var status: Int
    var reason: String
    var headers: HTTPHeaders
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
}

/// How a wait for the server to close ended.
enum CloseObservation: Equatable {
    /// Orderly close (FIN), after these extra bytes.
    case closed(extraBytes: Int)
    /// Connection reset.
    case reset
    /// Still open at the deadline.
    case stillOpen
}

/// A blocking TCP client written for the tests, speaking raw bytes. Each blocking call runs
/// on one of the client's own serial queues (threads outside Swift's cooperative pool), so a
/// test waiting on the socket never starves the server's handler tasks. Sending has its own
/// queue so a test can send while a read is waiting.
final class RawClient: @unchecked Sendable {
    private let socket: Int32
    private let queue = DispatchQueue(label: "test.raw-client.receive")
    private let sendQueue = DispatchQueue(label: "test.raw-client.send")
    private var unread: [UInt8] = []
    private var isClosed = false

    private init(socket: Int32) {
        self.socket = socket
    }

    deinit {
        if !isClosed { Glibc.close(socket) }
    }

    /// Connects to `host` (IPv4 or IPv6 literal) on `port`.
    static func connect(to port: Int, host: String = "127.0.0.1") async throws -> RawClient {
        try await onOwnThread {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, String(port), &hints, &list) == 0, let list else {
                throw RawClientError.connectFailed("cannot parse \(host)")
            }
            defer { freeaddrinfo(list) }
            let socket = Glibc.socket(list.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
            guard socket >= 0 else { throw RawClientError.connectFailed(SystemError.lastMessage()) }
            guard Glibc.connect(socket, list.pointee.ai_addr, list.pointee.ai_addrlen) == 0 else {
                let reason = SystemError.lastMessage()
                Glibc.close(socket)
                throw RawClientError.connectFailed(reason)
            }
            var one: Int32 = 1
            setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            return RawClient(socket: socket)
        }
    }

    /// Sends all of `text`.
    func send(_ text: String) async throws {
        try await send(Array(text.utf8))
    }

    /// Sends all of `bytes`.
    func send(_ bytes: [UInt8]) async throws {
        try await run(on: sendQueue) { [self] in
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard sent > 0 else { throw RawClientError.sendFailed(SystemError.lastMessage()) }
                offset += sent
            }
        }
    }

    /// Sends `text` one byte at a time, `interval` apart, stopping quietly if the server
    /// closes the connection. Returns how many bytes went out.
    func trickle(_ text: String, interval: Duration) async -> Int {
        var sent = 0
        for byte in text.utf8 {
            let ok = (try? await run(on: sendQueue) { [self] in
                var value = byte
                return Glibc.send(socket, &value, 1, Int32(MSG_NOSIGNAL)) == 1
            }) ?? false
            guard ok else { break }
            sent += 1
            try? await Task.sleep(for: interval)
        }
        return sent
    }

    /// Reads one response. `isHeadRequest` says the response has no body whatever its
    /// Content-Length. Interim (1xx) responses are returned like final ones.
    func readResponse(isHeadRequest: Bool = false, timeout: Duration = .seconds(5)) async throws -> RawResponse {
        try await run { [self] in
            let deadline = ContinuousClock.now + timeout
            let headEnd = try waitFor(deadline: deadline) { bytes in
                bytes.firstRange(of: Array("\r\n\r\n".utf8)).map(\.upperBound)
            }
            let headText = String(decoding: unread[..<headEnd], as: UTF8.self)
            unread.removeFirst(headEnd)
            var lines = headText.split(separator: "\r\n", omittingEmptySubsequences: true)
            guard !lines.isEmpty else { throw RawClientError.malformedResponse(headText) }
            let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard statusLine.count >= 2, statusLine[0] == "HTTP/1.1", let status = Int(statusLine[1]) else {
                throw RawClientError.malformedResponse(headText)
            }
            var headers = HTTPHeaders()
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { throw RawClientError.malformedResponse(headText) }
                headers.add(name: String(line[..<colon]), value: String(line[line.index(after: colon)...].trimmingWhitespace()))
            }
            var response = RawResponse(
                status: status, reason: statusLine.count > 2 ? String(statusLine[2]) : "", headers: headers, body: []
            )
            let hasBody = !isHeadRequest && !(100...199).contains(status) && status != 204 && status != 304
            if hasBody {
                guard let lengthText = headers["Content-Length"], let length = Int(lengthText) else {
                    throw RawClientError.malformedResponse("no Content-Length in \(headText)")
                }
                let end = try waitFor(deadline: deadline) { $0.count >= length ? length : nil }
                response.body = Array(unread[..<end])
                unread.removeFirst(end)
            }
            return response
        }
    }

    /// Waits until the server closes the connection, discarding anything that arrives.
    func waitForClose(timeout: Duration = .seconds(5)) async -> CloseObservation {
        (try? await run { [self] in
            let deadline = ContinuousClock.now + timeout
            var extra = unread.count
            unread.removeAll()
            while true {
                switch receive(deadline: deadline) {
                case .bytes(let count):
                    extra += count
                    unread.removeAll()
                case .endOfStream:
                    return CloseObservation.closed(extraBytes: extra)
                case .reset:
                    return .reset
                case .timedOut:
                    return .stillOpen
                }
            }
        }) ?? .stillOpen
    }

    /// Whether nothing arrives (and the connection stays open) for `duration`.
    func staysSilent(for duration: Duration) async -> Bool {
        (try? await run { [self] in
            guard unread.isEmpty else { return false }
            if case .timedOut = receive(deadline: .now + duration) { return true }
            return false
        }) ?? false
    }

    /// Closes the client's socket with a reset (SO_LINGER of zero) instead of a FIN, as a
    /// client that crashes or loses its network does.
    func reset() async {
        try? await run { [self] in
            guard !isClosed else { return }
            isClosed = true
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(socket, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            Glibc.close(socket)
        }
    }

    /// Closes the client's socket.
    func close() async {
        try? await run { [self] in
            guard !isClosed else { return }
            isClosed = true
            Glibc.close(socket)
        }
    }

    // MARK: - Blocking internals, on `queue`

    private enum Reception {
        case bytes(Int)
        case endOfStream
        case reset
        case timedOut
    }

    private func receive(deadline: ContinuousClock.Instant) -> Reception {
        let remaining = ContinuousClock.now.duration(to: deadline)
        guard remaining > .zero else { return .timedOut }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(min(remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1, 60_000))
        guard poll(&descriptor, 1, milliseconds) > 0 else { return .timedOut }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        if count > 0 {
            unread.append(contentsOf: chunk[..<count])
            return .bytes(count)
        }
        return count == 0 ? .endOfStream : .reset
    }

    /// Receives until `found` returns a value for the unread bytes.
    private func waitFor(deadline: ContinuousClock.Instant, _ found: ([UInt8]) -> Int?) throws -> Int {
        while true {
            if let result = found(unread) { return result }
            switch receive(deadline: deadline) {
            case .bytes:
                continue
            case .endOfStream, .reset:
                throw RawClientError.closedEarly(received: String(decoding: unread, as: UTF8.self))
            case .timedOut:
                throw RawClientError.timedOut(received: String(decoding: unread, as: UTF8.self))
            }
        }
    }

    private func run<Value: Sendable>(
        on chosenQueue: DispatchQueue? = nil, _ body: @escaping @Sendable () throws -> Value
    ) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            (chosenQueue ?? queue).async { continuation.resume(with: Result(catching: body)) }
        }
    }

    private static func onOwnThread<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue(label: "test.raw-client.connect").async { continuation.resume(with: Result(catching: body)) }
        }
    }
}
