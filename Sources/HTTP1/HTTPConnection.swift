import Dispatch
import Glibc

/// One client connection: reads bytes into the parser, runs the handler for each request in
/// turn, writes responses in request order, and closes when the lifecycle says so.
///
/// Reading and writing use Dispatch sources on a non-blocking socket, so an idle connection
/// holds no thread. All state lives on its loop's queue; the handler runs in a `Task` and
/// hands its response back to that queue.
final class HTTPConnection: @unchecked Sendable {
    /// Work waiting its turn, in request order.
    private enum PendingWork {
        /// A request for the handler.
        case handle(HTTPRequest, ResponseContext)
        /// A response the server gives itself (parse errors, 501, 408).
        case respond(HTTPResponse, ResponseContext)
    }

    /// The handler task running now.
    private struct InFlight {
        let task: Task<Void, Never>
        let context: ResponseContext
        let generation: Int
    }

    /// Bytes the connection reads ahead while it may not parse (its pipeline is full);
    /// beyond this it stops reading until it has answered something.
    private static let maxReadAheadBytes = 64 * 1024

    private static let continueResponse = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    private let socket: Int32
    private let remoteAddress: SocketAddress?
    private let loop: EventLoop
    private let settings: ConnectionSettings
    private var parser: HTTPRequestParser
    private var lifecycle: ConnectionStateMachine
    private var headBeingReceived: HTTPRequestHead?
    private var continueOwed = false
    private var pendingWork: [PendingWork] = []
    private var inFlight: InFlight?
    private var handlerGeneration = 0
    private var outbound = OutboundBuffer()
    private let readSource: DispatchSourceRead
    private var writeSource: DispatchSourceWrite?
    private var isReadSourceResumed = false
    private var isWriteSourceResumed = false
    private var isClosed = false

    init(socket: Int32, loop: EventLoop, settings: ConnectionSettings, acceptedAt now: ContinuousClock.Instant) {
        self.socket = socket
        self.loop = loop
        self.settings = settings
        remoteAddress = SocketAddress.peer(of: socket)
        parser = HTTPRequestParser(limits: settings.parserLimits)
        lifecycle = ConnectionStateMachine(
            acceptedAt: now, timeouts: settings.timeouts, maxPipelinedRequests: settings.maxPipelinedRequests
        )
        readSource = DispatchSource.makeReadSource(fileDescriptor: socket, queue: loop.queue)
    }

    /// The moment this connection next needs attention without any I/O, if any.
    var deadline: ContinuousClock.Instant? {
        isClosed ? nil : lifecycle.deadline
    }

    /// Starts reading.
    func start() {
        readSource.setEventHandler { [weak self] in self?.readable() }
        setReading(true)
        loop.noteDeadline(lifecycle.deadline)
    }

    // MARK: - Events

    private func readable() {
        guard !isClosed else { return }
        let count = recv(socket, loop.readBuffer.baseAddress, loop.readBuffer.count, 0)
        if count > 0 {
            // After the last request has been read (or refused), input is only drained: it
            // is never parsed, so nothing can be smuggled after a framing error.
            guard !lifecycle.isLingering, lifecycle.input != .stopped else { return }
            parser.append(UnsafeRawBufferPointer(rebasing: loop.readBuffer[0..<count]))
            advance()
        } else if count == 0 {
            // RFC 9112 §9.6 lets a client half-close after its request, but that cannot be told
            // apart from a client that went away; as nginx does by default, the connection is
            // treated as gone and its handler cancelled.
            close()
        } else {
            let error = errno
            if error == EAGAIN || error == EWOULDBLOCK || error == EINTR { return }
            close()
        }
    }

    private func writable() {
        guard !isClosed else { return }
        advance()
    }

    private func handlerFinished(_ response: HTTPResponse, generation: Int) {
        guard !isClosed, let current = inFlight, current.generation == generation else { return }
        inFlight = nil
        queueResponse(response, context: current.context)
        advance()
    }

    /// Acts on a passed deadline, if any.
    func handleDeadline(at now: ContinuousClock.Instant) {
        guard !isClosed, let expiry = lifecycle.expire(at: now) else { return }
        switch expiry {
        case .close:
            close()
        case .answerRequestTimeout:
            headBeingReceived = nil
            continueOwed = false
            let response = HTTPResponse.error(
                .requestTimeout, code: "request_timeout",
                message: "The request did not arrive in time; send the whole request promptly."
            )
            pendingWork.append(.respond(response, .unreadableRequest))
            advance()
        }
    }

    /// The server is shutting down: close now if nothing is in progress, otherwise after
    /// the response in progress.
    func beginShutdown() {
        guard !isClosed else { return }
        lifecycle.beginShutdown()
        advance()
    }

    // MARK: - Making progress

    /// Parses, dispatches and writes until nothing more can happen without new I/O.
    private func advance() {
        var progressed = true
        while progressed && !isClosed {
            progressed = parseRequests()
            progressed = startPendingWork() || progressed
            progressed = sendContinueIfDue() || progressed
            progressed = flush() || progressed
        }
        guard !isClosed else { return }
        if lifecycle.isDoneForShutdown {
            close()
            return
        }
        updateReadInterest()
        loop.noteDeadline(lifecycle.deadline)
    }

    /// Turns buffered bytes into queued requests while the pipeline has room.
    private func parseRequests() -> Bool {
        guard lifecycle.canReadAnotherRequest else { return false }
        let now = ContinuousClock.now
        var queuedAny = false
        while lifecycle.canReadAnotherRequest {
            let event: HTTPParserEvent?
            do {
                event = try parser.nextEvent()
            } catch {
                reject(error)
                return true
            }
            guard let event else { break }
            switch event {
            case .head(let head):
                headBeingReceived = head
                continueOwed = head.expectsContinue
            case .end(let body, let trailers):
                guard let head = headBeingReceived else { break }
                headBeingReceived = nil
                continueOwed = false
                lifecycle.requestReceived(at: now)
                enqueue(HTTPRequest(head: head, body: body, trailers: trailers, remoteAddress: remoteAddress), head: head)
                queuedAny = true
            }
        }
        lifecycle.inputObserved(parser.phase, at: now)
        return queuedAny
    }

    private func enqueue(_ request: HTTPRequest, head: HTTPRequestHead) {
        let context = ResponseContext(method: head.method, version: head.version, clientAllowsKeepAlive: head.wantsKeepAlive)
        if head.method.isImplemented {
            pendingWork.append(.handle(request, context))
        } else {
            // RFC 9110 §9.1: an unrecognised method gets 501; its framing was sound, so the
            // connection stays usable.
            let response = HTTPResponse.error(
                .notImplemented, code: "method_not_implemented",
                message: "The method \(head.method) is not implemented by this server."
            )
            pendingWork.append(.respond(response, context))
        }
    }

    private func reject(_ error: HTTPParseError) {
        lifecycle.requestRejected()
        let context = headBeingReceived.map {
            ResponseContext(method: $0.method, version: $0.version, clientAllowsKeepAlive: false)
        } ?? .unreadableRequest
        headBeingReceived = nil
        continueOwed = false
        pendingWork.append(.respond(HTTPResponse(parseError: error), context))
    }

    /// Starts the handler for the next request, writing any server-made responses before it.
    private func startPendingWork() -> Bool {
        var wroteResponse = false
        while inFlight == nil, !pendingWork.isEmpty {
            switch pendingWork.removeFirst() {
            case .respond(let response, let context):
                queueResponse(response, context: context)
                wroteResponse = true
            case .handle(let request, let context):
                handlerGeneration += 1
                let generation = handlerGeneration
                let handler = settings.handler
                let operation: @Sendable () async -> Void = { [loop] in
                    let response = await handler(request)
                    // Always a hop through the queue, even when the handler finished inline:
                    // `inFlight` is only set once the task has been created below.
                    loop.queue.async { self.handlerFinished(response, generation: generation) }
                }
                let task = settings.startsHandlersOnEventLoop ? Task.immediate(operation: operation) : Task(operation: operation)
                inFlight = InFlight(task: task, context: context, generation: generation)
            }
        }
        return wroteResponse
    }

    private func queueResponse(_ response: HTTPResponse, context: ResponseContext) {
        var response = response
        if let problem = response.invalidityReason {
            response = .error(
                .internalServerError, code: "invalid_response",
                message: "The server produced a response it cannot send: \(problem)."
            )
        }
        let closes = !context.clientAllowsKeepAlive || !lifecycle.allowsKeepAlive || response.asksToCloseConnection
        let date = loop.currentDate()
        let serverName = settings.serverName
        outbound.append(isFinalResponse: true, closesConnection: closes) { buffer in
            response.serialize(into: &buffer, context: context, closesConnection: closes, date: date, serverName: serverName)
        }
        if closes {
            // Requests read ahead of a closing response are never answered; RFC 9112 §9.3.2
            // has clients retry them on a new connection.
            pendingWork.removeAll()
            lifecycle.stopReading()
            headBeingReceived = nil
            continueOwed = false
        }
    }

    /// Sends `100 Continue` once the request waiting for it is next in line (RFC 9110 §10.1.1:
    /// only if the body has not started arriving is it needed, and it must not overtake
    /// earlier responses).
    private func sendContinueIfDue() -> Bool {
        guard continueOwed, lifecycle.outstandingResponses == 0, lifecycle.input == .receivingBody else { return false }
        continueOwed = false
        outbound.append(isFinalResponse: false, closesConnection: false) { buffer in
            buffer.append(contentsOf: Self.continueResponse)
        }
        return true
    }

    /// Writes what it can; returns whether a response finished leaving.
    private func flush() -> Bool {
        guard outbound.hasPendingBytes else { return false }
        let now = ContinuousClock.now
        var finishedResponse = false
        while outbound.hasPendingBytes {
            let written = outbound.withPendingBytes { bytes in
                send(socket, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            }
            guard written >= 0 else {
                let error = errno
                if error == EINTR { continue }
                if error == EAGAIN || error == EWOULDBLOCK {
                    lifecycle.writeStalled(at: now)
                    setWriteInterest(true)
                    return finishedResponse
                }
                close()
                return false
            }
            for boundary in outbound.markWritten(written) where boundary.isFinalResponse {
                lifecycle.responseWritten(closingConnection: boundary.closesConnection, at: now)
                finishedResponse = true
                if boundary.closesConnection {
                    startLingering()
                    return true
                }
            }
            lifecycle.writeProgressed(pending: outbound.hasPendingBytes, at: now)
        }
        setWriteInterest(false)
        return finishedResponse
    }

    /// Half-closes after the final response and drains the client's input until it closes
    /// too or the lingering timeout passes: closing with unread input would make the kernel
    /// send a reset, which can destroy the response before the client reads it (RFC 9112 §9.6).
    private func startLingering() {
        shutdown(socket, Int32(SHUT_WR))
        setWriteInterest(false)
        setReading(true)
    }

    // MARK: - Interest in I/O

    private func updateReadInterest() {
        if lifecycle.isLingering || lifecycle.input == .stopped {
            // Keep reading, to drain and to notice the client leaving.
            setReading(true)
        } else {
            setReading(lifecycle.canReadAnotherRequest || parser.bufferedByteCount < Self.maxReadAheadBytes)
        }
    }

    private func setReading(_ wanted: Bool) {
        guard wanted != isReadSourceResumed else { return }
        isReadSourceResumed = wanted
        if wanted { readSource.resume() } else { readSource.suspend() }
    }

    private func setWriteInterest(_ wanted: Bool) {
        guard wanted != isWriteSourceResumed else { return }
        let source: DispatchSourceWrite
        if let writeSource {
            source = writeSource
        } else {
            guard wanted else { return }
            source = DispatchSource.makeWriteSource(fileDescriptor: socket, queue: loop.queue)
            source.setEventHandler { [weak self] in self?.writable() }
            writeSource = source
        }
        isWriteSourceResumed = wanted
        if wanted { source.resume() } else { source.suspend() }
    }

    // MARK: - Closing

    /// Closes the socket now, cancelling the handler task if one is running (the client is
    /// gone or out of time, so its work is wasted).
    func close() {
        guard !isClosed else { return }
        isClosed = true
        inFlight?.task.cancel()
        inFlight = nil
        pendingWork.removeAll()
        // The descriptor may only be closed once every source on it has been cancelled; a
        // suspended source must be resumed before it can be cancelled and released.
        let descriptor = socket
        let writeSource = writeSource
        if let writeSource {
            writeSource.setCancelHandler { _ = Glibc.close(descriptor) }
            readSource.setCancelHandler { writeSource.cancel() }
            if !isWriteSourceResumed { writeSource.resume() }
        } else {
            readSource.setCancelHandler { _ = Glibc.close(descriptor) }
        }
        if !isReadSourceResumed { readSource.resume() }
        readSource.cancel()
        loop.connectionClosed(self)
    }
}
