/// The life of one connection as a value, apart from any socket: what it is waiting for,
/// how many responses it owes, when it must give up on the client, and when it may close.
///
/// The connection feeds it events with the current time; it answers with the next deadline
/// and, once that passes, what to do. Timers on the client's input only run while the
/// server owes no response: while a handler works, the client is not the slow one.
struct ConnectionStateMachine: Sendable {
    /// How long each wait may last.
    struct Timeouts: Sendable, Equatable {
        /// From accept (first request) or from the first byte (later ones) to the end of the
        /// header section.
        var header: Duration
        /// From the end of the header section to the end of the body.
        var body: Duration
        /// Between requests on a kept-alive connection.
        var idle: Duration
        /// The longest a pending response may wait for the client to accept more bytes.
        var write: Duration
        /// After the last response, how long to drain the client's input before closing.
        var lingeringClose: Duration
        /// From accept to the end of the TLS handshake, on a connection that has one.
        var handshake = Duration.seconds(10)
    }

    /// Where the reading side is.
    enum Input: Sendable, Equatable {
        /// Nothing of the next request has arrived.
        case awaitingRequest
        /// Part of a request line or header section has arrived.
        case receivingHead
        /// The head has arrived; the body has not all arrived.
        case receivingBody
        /// No further request will be read: the connection closes after what it owes.
        case stopped
    }

    /// What to do when the deadline has passed.
    enum Expiry: Sendable, Equatable {
        /// Close without a response: nothing was asked, or the client stopped reading, or
        /// lingering is over.
        case close
        /// Answer 408 Request Timeout, then close (the machine already counts that response).
        case answerRequestTimeout
    }

    let timeouts: Timeouts
    let maxPipelinedRequests: Int

    /// The reading side.
    private(set) var input = Input.awaitingRequest
    /// Requests read (or rejected) whose responses have not fully been written.
    private(set) var outstandingResponses = 0
    /// Whether the last response has been written and the connection only drains input.
    private(set) var isLingering = false
    /// Whether the server is shutting down.
    private(set) var isShuttingDown = false
    /// Whether the TLS handshake is still under way; no HTTP is read until it ends.
    private(set) var isHandshaking: Bool

    private var inputClockStart: ContinuousClock.Instant
    private var hasReceivedARequest = false
    private var writeStalledSince: ContinuousClock.Instant?
    private var lingeringDeadline: ContinuousClock.Instant?
    private let handshakeDeadline: ContinuousClock.Instant

    /// A connection accepted at `now`, which first completes a TLS handshake if
    /// `awaitsHandshake`.
    init(acceptedAt now: ContinuousClock.Instant, timeouts: Timeouts, maxPipelinedRequests: Int, awaitsHandshake: Bool = false) {
        self.timeouts = timeouts
        self.maxPipelinedRequests = maxPipelinedRequests
        inputClockStart = now
        isHandshaking = awaitsHandshake
        handshakeDeadline = now + timeouts.handshake
    }

    /// Whether the next request may be parsed now: reading has not stopped and fewer than
    /// the allowed number of responses are owed.
    var canReadAnotherRequest: Bool {
        !isHandshaking && input != .stopped && !isLingering && outstandingResponses < maxPipelinedRequests
    }

    /// Whether the response being prepared may leave the connection open.
    var allowsKeepAlive: Bool {
        !isShuttingDown
    }

    /// Whether the connection should close now because the server is shutting down and the
    /// connection has nothing in progress.
    var isDoneForShutdown: Bool {
        isShuttingDown && outstandingResponses == 0 && input == .awaitingRequest && !isLingering
    }

    // MARK: - Events

    /// The TLS handshake finished: the first request's header clock starts now, so a slow
    /// handshake does not eat into it.
    mutating func handshakeCompleted(at now: ContinuousClock.Instant) {
        isHandshaking = false
        inputClockStart = now
    }

    /// The client spoke plain HTTP to the TLS port: no handshake will happen, and the one
    /// response owed is the refusal.
    mutating func handshakeRefused() {
        isHandshaking = false
        requestRejected()
    }

    /// The parser now waits in `phase`.
    mutating func inputObserved(_ phase: HTTPRequestParser.Phase, at now: ContinuousClock.Instant) {
        guard input != .stopped else { return }
        let observed: Input = switch phase {
        case .idle: .awaitingRequest
        case .head: .receivingHead
        case .body: .receivingBody
        }
        guard observed != input else { return }
        // The first request's header deadline counts from accept: a client that connects has
        // its request ready, and a slowloris client must not get a fresh clock per byte.
        let keepsFirstRequestClock = input == .awaitingRequest && observed == .receivingHead && !hasReceivedARequest
        if !keepsFirstRequestClock { inputClockStart = now }
        input = observed
    }

    /// A whole request was read; its response is now owed.
    mutating func requestReceived(at now: ContinuousClock.Instant) {
        outstandingResponses += 1
        hasReceivedARequest = true
        if input != .stopped {
            input = .awaitingRequest
            inputClockStart = now
        }
    }

    /// A request was rejected; its error response is owed and nothing more will be read.
    mutating func requestRejected() {
        outstandingResponses += 1
        input = .stopped
    }

    /// A response that closes the connection has been queued: read nothing more.
    mutating func stopReading() {
        input = .stopped
    }

    /// A final response has been written completely.
    mutating func responseWritten(closingConnection: Bool, at now: ContinuousClock.Instant) {
        outstandingResponses -= 1
        if closingConnection {
            input = .stopped
            isLingering = true
            lingeringDeadline = now + timeouts.lingeringClose
        } else if outstandingResponses == 0 {
            // From here on the server waits for the client again.
            inputClockStart = now
        }
    }

    /// A write could not complete because the client is not reading.
    mutating func writeStalled(at now: ContinuousClock.Instant) {
        if writeStalledSince == nil { writeStalledSince = now }
    }

    /// Bytes were written; `pending` says whether more are still waiting.
    mutating func writeProgressed(pending: Bool, at now: ContinuousClock.Instant) {
        writeStalledSince = pending ? now : nil
    }

    /// The server began a graceful shutdown.
    mutating func beginShutdown() {
        isShuttingDown = true
    }

    // MARK: - Deadlines

    /// The earliest moment something must happen without any event, or nil.
    var deadline: ContinuousClock.Instant? {
        if isHandshaking { return handshakeDeadline }
        if let lingeringDeadline { return lingeringDeadline }
        // Compared by hand: this runs after every turn of every connection.
        let inputDeadline = inputDeadline
        guard let writeStalledSince else { return inputDeadline }
        let writeDeadline = writeStalledSince + timeouts.write
        guard let inputDeadline, inputDeadline < writeDeadline else { return writeDeadline }
        return inputDeadline
    }

    private var inputDeadline: ContinuousClock.Instant? {
        guard outstandingResponses == 0 else { return nil }
        switch input {
        case .awaitingRequest: return inputClockStart + (hasReceivedARequest ? timeouts.idle : timeouts.header)
        case .receivingHead: return inputClockStart + timeouts.header
        case .receivingBody: return inputClockStart + timeouts.body
        case .stopped: return nil
        }
    }

    /// What to do at `now`, if a deadline has passed.
    mutating func expire(at now: ContinuousClock.Instant) -> Expiry? {
        if isHandshaking {
            // Nothing was asked in HTTP, so there is nothing to answer.
            return now >= handshakeDeadline ? .close : nil
        }
        if let lingeringDeadline {
            return now >= lingeringDeadline ? .close : nil
        }
        if let writeStalledSince, now >= writeStalledSince + timeouts.write {
            return .close
        }
        guard let inputDeadline, now >= inputDeadline else { return nil }
        switch input {
        case .awaitingRequest, .stopped:
            return .close
        case .receivingHead, .receivingBody:
            // RFC 9110 §15.5.9: the server would rather close than keep waiting; say so.
            requestRejected()
            return .answerRequestTimeout
        }
    }
}
