import Glibc

/// One client connection: reads bytes into the parser, runs the handler for each request in
/// turn, writes responses in request order, and closes when the lifecycle says so.
///
/// The socket is non-blocking and registered once with its loop. On epoll the registration is
/// edge-triggered for input, output and the peer's shutdown, so an idle connection holds no
/// thread and a busy one costs no epoll_ctl per request. Edge-triggered means the connection
/// must remember what the kernel told it: whether input may be waiting (until a read comes back
/// short or with EAGAIN) and whether output is blocked (until the next writable edge). On
/// Dispatch, whose sources report readiness for as long as it lasts, the connection also tells
/// the loop after each turn which readiness it waits for (`interest`). All state lives on its
/// loop; the handler runs in a `Task` and hands its response back to the loop.
///
/// Bodies are admitted from the head: the head check and the router may refuse a request
/// before its body is read, and the server's `BodyBudget` must have room for the body —
/// reserved whole from `Content-Length`, or chunk by chunk — or the request is answered 503.
/// A request's reservation travels with it: held while its body arrives and while it waits
/// its turn, and given back when its handler returns, when it is refused, or when the
/// connection closes.
///
/// On an HTTPS server the connection first completes the TLS handshake, then moves its bytes
/// through its `TLSSession` (see `ConnectionTransport`); everything above the transport is the
/// same for both.
final class HTTPConnection: EventLoopIOHandler, @unchecked Sendable {
    /// Work waiting its turn, in request order.
    private enum PendingWork {
        /// A request for the handler, with the body bytes it holds in the budget.
        case handle(HTTPRequest, ResponseContext, bodyReservation: Int)
        /// A response the server gives itself (parse errors, 501, 408).
        case respond(HTTPResponse, ResponseContext)
    }

    /// The handler task running now.
    private struct InFlight {
        /// Nil while the task is being created (a handler started on the loop may finish
        /// before its task handle exists).
        var task: Task<Void, Never>?
        let context: ResponseContext
        let generation: Int
        /// Body bytes the request holds in the budget, given back when the handler returns.
        let bodyReservation: Int
    }

    /// Bytes the connection reads ahead while it may not parse (its pipeline is full);
    /// beyond this it stops reading until it has answered something.
    private static let maxReadAheadBytes = 64 * 1024

    /// Reads one turn may make before the connection lets the loop serve others; the rest
    /// of its input waits for the loop's next round.
    private static let readsPerTurn = 16

    /// How often a connection that does not read looks for the client's shutdown, on a loop
    /// that does not report it (see `lookForPeerLeavingLater`).
    private static let peerCheckInterval = Duration.milliseconds(100)

    private static let continueResponse = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// The answer to plain HTTP on the TLS port, in the spirit of nginx's 497: the client
    /// learns what to change rather than seeing the connection drop.
    private static var httpsRequiredResponse: HTTPResponse {
        .error(.badRequest, code: "https_required", message: "This port speaks HTTPS; use https://.")
    }

    private let socket: Int32
    private let remoteAddress: SocketAddress?
    private let loop: EventLoop
    private let settings: ConnectionSettings
    // The state every request goes through is exempt from run-time exclusivity checks
    // (`@exclusivity(unchecked)`): each access otherwise cost a call into the runtime and a
    // thread-local lookup, about 30 per request and a tenth of the instructions of a
    // `GET /healthz`. It is touched only on the connection's loop, one turn at a time, and
    // never while a mutating call on it is still running (handlers started here return into
    // `startPendingWork` after `pendingWork.removeFirst()` has finished); the tests ran with
    // the checks on before they were lifted.
    @exclusivity(unchecked) private var parser: HTTPRequestParser
    @exclusivity(unchecked) private var lifecycle: ConnectionStateMachine
    @exclusivity(unchecked) private var headBeingReceived: HTTPRequestHead?
    /// Body bytes reserved in the budget for the request being received.
    private var receivingBodyReservation = 0
    private var continueOwed = false
    @exclusivity(unchecked) private var pendingWork: [PendingWork] = []
    /// A refusal for overload waiting out `ConnectionSettings.overloadRefusalDelay` before it
    /// joins `pendingWork`; nothing is read meanwhile.
    @exclusivity(unchecked) private var heldRefusal: (response: HTTPResponse, context: ResponseContext, due: ContinuousClock.Instant)?
    @exclusivity(unchecked) private var inFlight: InFlight?
    private var handlerGeneration = 0
    @exclusivity(unchecked) private var outbound = OutboundBuffer()
    private var transport = ConnectionTransport.plain
    private var registration: UInt64?
    /// The kernel may hold input not read yet: set by every readable edge (registering a
    /// socket that already has input brings one), cleared by a read that finds it drained.
    private var mayHaveInput = false
    /// The client has shut down its side (or the connection broke): read to the end, and do
    /// not wait for input that cannot come.
    private var peerHasClosed = false
    /// The last write stopped short; the next writable edge clears it.
    private var isOutputBlocked = false
    /// A TLS read could not go on until the socket takes output; the next writable edge
    /// lets reading resume.
    private var inputAwaitsWritable = false
    /// A TLS write could not go on until input arrives; the next readable edge lets
    /// writing resume.
    private var outputAwaitsReadable = false
    /// A look for the client's shutdown is scheduled (see `lookForPeerLeavingLater`).
    private var isPeerCheckScheduled = false
    private var isAdvancing = false
    private var isClosed = false

    init(socket: Int32, loop: EventLoop, settings: ConnectionSettings, acceptedAt now: ContinuousClock.Instant) {
        self.socket = socket
        self.loop = loop
        self.settings = settings
        remoteAddress = SocketAddress.peer(of: socket)
        parser = HTTPRequestParser(limits: settings.parserLimits)
        lifecycle = ConnectionStateMachine(
            acceptedAt: now, timeouts: settings.timeouts, maxPipelinedRequests: settings.maxPipelinedRequests,
            awaitsHandshake: settings.tls != nil
        )
    }

    /// The moment this connection next needs attention without any I/O, if any.
    var deadline: ContinuousClock.Instant? {
        guard !isClosed else { return nil }
        guard let held = heldRefusal?.due else { return lifecycle.deadline }
        return min(lifecycle.deadline ?? held, held)
    }

    /// Registers with the loop. Returns false, having closed the socket, if the loop cannot
    /// watch it.
    func start() -> Bool {
        if let context = settings.tls {
            guard let session = context.makeSession(socket: socket) else {
                isClosed = true
                Glibc.close(socket)
                return false
            }
            transport = .tls(session)
        }
        do {
            // A loop that follows interest is asked for what the connection waits for now.
            let events: IOEvents = loop.followsInterest ? interest : [.readable, .writable, .peerClosed, .edgeTriggered]
            registration = try loop.register(socket, events: events, handler: self)
        } catch {
            isClosed = true
            Glibc.close(socket)
            return false
        }
        loop.noteDeadline(deadline)
        return true
    }

    // MARK: - Events

    func handleIO(_ events: IOEvents) {
        guard !isClosed else { return }
        if !events.isDisjoint(with: [.readable, .peerClosed, .hangUp, .error]) {
            mayHaveInput = true
            if outputAwaitsReadable {
                outputAwaitsReadable = false
                isOutputBlocked = false
            }
        }
        if !events.isDisjoint(with: [.peerClosed, .hangUp, .error]) {
            peerHasClosed = true
        }
        if events.contains(.writable) {
            isOutputBlocked = false
            if inputAwaitsWritable {
                inputAwaitsWritable = false
                mayHaveInput = true
            }
        }
        advance()
    }

    /// The handler's task returned; called on whatever thread the task ran on.
    private func handlerReturned(_ response: HTTPResponse, generation: Int) {
        if loop.isOnLoop {
            handlerFinished(response, generation: generation)
        } else {
            loop.execute { self.handlerFinished(response, generation: generation) }
        }
    }

    private func handlerFinished(_ response: HTTPResponse, generation: Int) {
        guard !isClosed, let current = inFlight, current.generation == generation else { return }
        inFlight = nil
        // The handler has returned, so the body it was given is no longer needed.
        settings.bodyBudget.release(current.bodyReservation)
        queueResponse(response, context: current.context)
        // A handler that finished without suspending returns into `startPendingWork`, whose
        // `advance` carries on from here.
        if !isAdvancing { advance() }
    }

    /// Acts on a passed deadline, if any.
    func handleDeadline(at now: ContinuousClock.Instant) {
        guard !isClosed else { return }
        if let held = heldRefusal, now >= held.due {
            releaseHeldRefusal()
            advance()
        }
        if !isClosed, let deadline = lifecycle.deadline, now >= deadline {
            // Input that arrived before the deadline is taken in first, even if its readiness
            // has not been handled yet: on Dispatch a timer and a read source's event run in no
            // set order, and on epoll input may arrive between a wait and its timers.
            mayHaveInput = true
            advance()
        }
        guard !isClosed, let expiry = lifecycle.expire(at: now) else { return }
        switch expiry {
        case .close:
            close()
        case .answerRequestTimeout:
            headBeingReceived = nil
            continueOwed = false
            releaseParserBuffers()
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
        releaseHeldRefusal()
        advance()
    }

    // MARK: - Making progress

    /// Reads, parses, dispatches and writes until nothing more can happen without new I/O.
    private func advance() {
        isAdvancing = true
        defer { isAdvancing = false }
        var readsLeft = Self.readsPerTurn
        var progressed = true
        while progressed && !isClosed {
            if lifecycle.isHandshaking {
                progressed = continueHandshake()
                continue
            }
            progressed = readInput(readsLeft: &readsLeft)
            progressed = parseRequests() || progressed
            progressed = startPendingWork() || progressed
            progressed = sendContinueIfDue() || progressed
            progressed = flush() || progressed
        }
        guard !isClosed else { return }
        if lifecycle.isDoneForShutdown {
            close()
            return
        }
        if peerHasClosed && !wantsInput {
            // The client left while its pipeline was full; see `readInput` for why leaving
            // counts as gone.
            close()
            return
        }
        if mayHaveInput && wantsInput && !lifecycle.isHandshaking {
            // Out of reads for this turn; no new edge will come for input already waiting.
            loop.execute { self.advance() }
        }
        if loop.followsInterest, let registration {
            loop.setInterest(registration, interest)
            if !wantsInput { lookForPeerLeavingLater() }
        }
        loop.noteDeadline(deadline)
    }

    /// The readiness the connection waits for now, for a loop whose registrations report
    /// readiness for as long as it lasts (`EventLoop.followsInterest`): input while it reads
    /// (or TLS's handshake or a TLS write needs it), output while a write is blocked (or a
    /// TLS read needs it). Not waiting for input while the pipeline is full is what keeps
    /// such a loop from reporting the same unread input over and over.
    private var interest: IOEvents {
        var events: IOEvents = []
        // A read that waits for the socket to take output would only find the same input.
        let readAwaitsWritable = inputAwaitsWritable || (lifecycle.isHandshaking && isOutputBlocked)
        if (wantsInput || lifecycle.isHandshaking) && !readAwaitsWritable || outputAwaitsReadable { events.insert(.readable) }
        if isOutputBlocked || inputAwaitsWritable { events.insert(.writable) }
        return events
    }

    /// While the connection does not read, a loop that follows interest reports nothing for
    /// its socket, not even the client's shutdown, which the epoll loop reports as an event
    /// of its own; so the connection looks for it itself, every `peerCheckInterval` until it
    /// reads again (the client may leave while its handler runs, which is then cancelled).
    private func lookForPeerLeavingLater() {
        guard !isPeerCheckScheduled else { return }
        isPeerCheckScheduled = true
        loop.schedule(at: .now + Self.peerCheckInterval) { [self] in
            isPeerCheckScheduled = false
            guard !isClosed, !wantsInput else { return }
            // POLLRDHUP (the peer shut down its side) has epoll's value for the same.
            let events = Int16(POLLIN) | Int16(IOEvents.peerClosed.rawValue)
            var entry = pollfd(fd: socket, events: events, revents: 0)
            let hungUp = Int16(POLLHUP) | Int16(POLLERR) | Int16(IOEvents.peerClosed.rawValue)
            if poll(&entry, 1, 0) > 0, entry.revents & hungUp != 0 {
                handleIO(.peerClosed)
            } else {
                lookForPeerLeavingLater()
            }
        }
    }

    /// Whether the connection reads now: to parse, while the pipeline has room or the
    /// read-ahead limit is not reached; and always once no request will be parsed, to drain
    /// input and notice the client leaving.
    private var wantsInput: Bool {
        // A held refusal leaves the body unread; the client leaving still shows as an event.
        if heldRefusal != nil { return false }
        if lifecycle.isLingering || lifecycle.input == .stopped { return true }
        return lifecycle.canReadAnotherRequest || parser.bufferedByteCount < Self.maxReadAheadBytes
    }

    /// Reads once, if input may be waiting and is wanted; returns whether bytes arrived.
    private func readInput(readsLeft: inout Int) -> Bool {
        guard mayHaveInput, readsLeft > 0, !isClosed, wantsInput else { return false }
        readsLeft -= 1
        // While lingering, TLS has said its close_notify: what still arrives is drained as
        // raw bytes, never decrypted.
        let reader = lifecycle.isLingering ? ConnectionTransport.plain : transport
        switch reader.receive(from: socket, into: loop.readBuffer) {
        case .transferred(let count):
            // A short read emptied the socket; data arriving later brings a new edge. After
            // the peer's shutdown, reading goes on to the end of the stream. TLS reads on
            // until one blocks.
            if reader.shortReadMeansDrained && count < loop.readBuffer.count && !peerHasClosed { mayHaveInput = false }
            // After the last request has been read (or refused), input is only drained: it
            // is never parsed, so nothing can be smuggled after a framing error.
            if !lifecycle.isLingering && lifecycle.input != .stopped {
                parser.append(UnsafeRawBufferPointer(rebasing: loop.readBuffer[0..<count]))
            }
            return true
        case .blocked(let readiness):
            mayHaveInput = false
            if readiness == .writable { inputAwaitsWritable = true }
            return false
        case .closed:
            // End of stream, a reset, or a TLS error. RFC 9112 §9.6 lets a client half-close
            // after its request, but that cannot be told apart from a client that went away;
            // as nginx does by default, the connection is treated as gone and its handler
            // cancelled.
            close()
            return false
        }
    }

    /// Takes the TLS handshake as far as the socket allows; returns true once the
    /// connection is ready to read HTTP (the handshake is complete, or the client turned out
    /// to speak plain HTTP and is owed the refusal).
    private func continueHandshake() -> Bool {
        guard case .tls(let session) = transport else { return false }
        if !session.hasCheckedFirstByte {
            var first: UInt8 = 0
            let count = recv(socket, &first, 1, Int32(MSG_PEEK))
            if count < 0 {
                let error = errno
                if error == EINTR { return true }
                if error == EAGAIN || error == EWOULDBLOCK {
                    mayHaveInput = false
                } else {
                    close()
                }
                return false
            }
            if count == 0 {
                // Connected and left without a word.
                close()
                return false
            }
            session.hasCheckedFirstByte = true
            if TLSSession.startsPlainHTTP(first) {
                refusePlainHTTP()
                return true
            }
        }
        switch session.handshake() {
        case .complete:
            lifecycle.handshakeCompleted(at: .now)
            // The client may have sent its request right behind its last handshake message.
            mayHaveInput = true
            return true
        case .blocked(until: .readable):
            mayHaveInput = false
            return false
        case .blocked(until: .writable):
            isOutputBlocked = true
            return false
        case .failed:
            // Abrupt closes, scanners and clients that accept none of the offered versions
            // or protocols end here, quietly: no handshake means no one to answer.
            close()
            return false
        }
    }

    /// Answers plain HTTP sent to the TLS port with `400 https_required` in plain text, then
    /// closes. The request itself is drained unread.
    private func refusePlainHTTP() {
        transport = .plain
        lifecycle.handshakeRefused()
        pendingWork.append(.respond(Self.httpsRequiredResponse, .unreadableRequest))
        mayHaveInput = true
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
            guard let event else {
                // A chunked body may have announced more chunks: room for them first.
                guard reserveReceivingBody(upTo: parser.announcedBodyBytes) else {
                    refuse(with: .bodyBudgetExhausted)
                    return true
                }
                break
            }
            switch event {
            case .head(let head):
                headBeingReceived = head
                continueOwed = head.expectsContinue
                if let refusal = admissionRefusal(for: head) {
                    refuse(with: refusal)
                    return true
                }
            case .end(let body, let trailers):
                guard let head = headBeingReceived else { break }
                // A chunked body that arrived whole within one read is reserved only now.
                guard reserveReceivingBody(upTo: body.count) else {
                    refuse(with: .bodyBudgetExhausted)
                    return true
                }
                headBeingReceived = nil
                continueOwed = false
                lifecycle.requestReceived(at: now)
                let request = HTTPRequest(head: head, body: body, trailers: trailers, remoteAddress: remoteAddress)
                enqueue(request, head: head, bodyReservation: receivingBodyReservation)
                receivingBodyReservation = 0
                queuedAny = true
            }
        }
        lifecycle.inputObserved(parser.phase, at: now)
        return queuedAny
    }

    private func enqueue(_ request: HTTPRequest, head: HTTPRequestHead, bodyReservation: Int) {
        let context = ResponseContext(method: head.method, version: head.version, clientAllowsKeepAlive: head.wantsKeepAlive)
        if head.method.isImplemented {
            pendingWork.append(.handle(request, context, bodyReservation: bodyReservation))
        } else {
            // The body is dropped with the request here.
            settings.bodyBudget.release(bodyReservation)
            // RFC 9110 §9.1: an unrecognised method gets 501; its framing was sound, so the
            // connection stays usable.
            let response = HTTPResponse.error(
                .notImplemented, code: "method_not_implemented",
                message: "The method \(head.method) is not implemented by this server."
            )
            pendingWork.append(.respond(response, context))
        }
    }

    /// The answer that refuses a request from its head, before any of its body is read, or nil
    /// to read the body. Only requests that announce a body are checked: one without costs
    /// nothing to read. Methods the server does not implement keep their 501 after the body,
    /// but their body is budgeted like any other.
    private func admissionRefusal(for head: HTTPRequestHead) -> HTTPResponse? {
        guard head.bodyFraming != .none else { return nil }
        if head.method.isImplemented, let headCheck = settings.headCheck, let response = headCheck(head) {
            return response
        }
        // The checks come first, so a request refused anyway takes nothing from the budget.
        if case .contentLength(let length) = head.bodyFraming {
            guard reserveReceivingBody(upTo: length) else { return .bodyBudgetExhausted }
            parser.reserveBodyCapacity(length)
        }
        return nil
    }

    /// Grows the reservation of the body being received to `byteCount`, if the budget has
    /// room; returns whether it now covers that many bytes. Input is parsed a read at a time,
    /// so a chunked body is at most one read (64 KiB) ahead of its reservation when refused.
    private func reserveReceivingBody(upTo byteCount: Int) -> Bool {
        guard byteCount > receivingBodyReservation else { return true }
        guard settings.bodyBudget.reserve(byteCount - receivingBodyReservation) else { return false }
        receivingBodyReservation = byteCount
        return true
    }

    /// Gives back the reservation of a body that will never reach a handler.
    private func releaseReceivingBody() {
        settings.bodyBudget.release(receivingBodyReservation)
        receivingBodyReservation = 0
    }

    /// Drops the requests waiting their turn, giving back their bodies' reservations.
    private func dropPendingWork() {
        for work in pendingWork {
            if case .handle(_, _, let bodyReservation) = work {
                settings.bodyBudget.release(bodyReservation)
            }
        }
        pendingWork.removeAll()
    }

    private func reject(_ error: HTTPParseError) {
        refuse(with: HTTPResponse(parseError: error))
    }

    /// Answers the request being received with `response`, then closes: nothing more of its
    /// body, or of later requests, is parsed. A client still sending is drained by the
    /// lingering close. RFC 9110 §10.1.1: a response sent before the whole body has been
    /// read says whether the connection closes; `Connection: close` does, and a client
    /// waiting for `100 Continue` gets this final status instead.
    private func refuse(with response: HTTPResponse) {
        lifecycle.requestRejected()
        let context = headBeingReceived.map {
            ResponseContext(method: $0.method, version: $0.version, clientAllowsKeepAlive: false)
        } ?? .unreadableRequest
        headBeingReceived = nil
        continueOwed = false
        releaseParserBuffers()
        let isOverload = response.status.code == 429 || response.status.code == 503
        if isOverload, settings.overloadRefusalDelay > .zero, !lifecycle.isShuttingDown {
            heldRefusal = (response, context, .now + settings.overloadRefusalDelay)
        } else {
            pendingWork.append(.respond(response, context))
        }
    }

    /// Sends a held refusal now: it joins the responses owed, after those before it.
    private func releaseHeldRefusal() {
        guard let held = heldRefusal else { return }
        heldRefusal = nil
        pendingWork.append(.respond(held.response, held.context))
    }

    /// Nothing more will be parsed on this connection: lets go of the input and the partial
    /// body the parser holds, rather than keeping them until the connection closes, and of
    /// that body's reservation.
    private func releaseParserBuffers() {
        parser = HTTPRequestParser(limits: settings.parserLimits)
        releaseReceivingBody()
    }

    /// Starts the handler for the next request, writing any server-made responses before it.
    private func startPendingWork() -> Bool {
        var wroteResponse = false
        while inFlight == nil, !pendingWork.isEmpty {
            switch pendingWork.removeFirst() {
            case .respond(let response, let context):
                queueResponse(response, context: context)
                wroteResponse = true
            case .handle(let request, let context, let bodyReservation):
                if let immediateHandler = settings.immediateHandler, let response = immediateHandler(request) {
                    // Answered at once: as if a handler had returned without suspending.
                    settings.bodyBudget.release(bodyReservation)
                    queueResponse(response, context: context)
                    wroteResponse = true
                    continue
                }
                handlerGeneration += 1
                let generation = handlerGeneration
                inFlight = InFlight(task: nil, context: context, generation: generation, bodyReservation: bodyReservation)
                let handler = settings.handler
                let operation: @Sendable () async -> Void = {
                    let response = await handler(request)
                    self.handlerReturned(response, generation: generation)
                }
                let task = settings.startsHandlersOnEventLoop ? Task.immediate(operation: operation) : Task(operation: operation)
                if inFlight?.generation == generation {
                    inFlight?.task = task
                } else {
                    // It finished before suspending, and its response is queued.
                    wroteResponse = true
                }
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
        // Every response carries a request id; the handler normally sets it, and the
        // server's own answers (parse errors, timeouts, 501) get a fresh one.
        if let header = settings.requestIDHeader, !response.headers.contains(header) {
            response.headers.set(name: header, value: HTTPRequestID.fresh())
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
            dropPendingWork()
            lifecycle.stopReading()
            headBeingReceived = nil
            continueOwed = false
            releaseParserBuffers()
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
        guard outbound.hasPendingBytes, !isOutputBlocked else { return false }
        let now = ContinuousClock.now
        var finishedResponse = false
        while outbound.hasPendingBytes {
            let outcome = outbound.withPendingBytes { bytes in
                transport.send(to: socket, bytes)
            }
            let written: Int
            switch outcome {
            case .transferred(let count):
                written = count
            case .blocked(let readiness):
                isOutputBlocked = true
                if readiness == .readable { outputAwaitsReadable = true }
                lifecycle.writeStalled(at: now)
                return finishedResponse
            case .closed:
                close()
                return false
            }
            outbound.markWritten(written)
            while let boundary = outbound.takeFinished() {
                guard boundary.isFinalResponse else { continue }
                lifecycle.responseWritten(closingConnection: boundary.closesConnection, at: now)
                finishedResponse = true
                if boundary.closesConnection {
                    startLingering()
                    return true
                }
            }
            lifecycle.writeProgressed(pending: outbound.hasPendingBytes, at: now)
        }
        return finishedResponse
    }

    /// Half-closes after the final response and drains the client's input until it closes
    /// too or the lingering timeout passes: closing with unread input would make the kernel
    /// send a reset, which can destroy the response before the client reads it (RFC 9112 §9.6).
    private func startLingering() {
        if case .tls(let session) = transport { session.sendCloseNotify() }
        shutdown(socket, Int32(SHUT_WR))
    }

    // MARK: - Closing

    /// Closes the socket now, cancelling the handler task if one is running (the client is
    /// gone or out of time, so its work is wasted).
    func close() {
        guard !isClosed else { return }
        isClosed = true
        inFlight?.task?.cancel()
        // A cancelled handler may hold its body a little longer; the connection no longer
        // counts it, as it no longer reads anything more.
        settings.bodyBudget.release(inFlight?.bodyReservation ?? 0)
        inFlight = nil
        dropPendingWork()
        releaseParserBuffers()
        if case .tls(let session) = transport {
            session.sendCloseNotify()
            // Releases the session, which frees its SSL.
            transport = .plain
        }
        // The loop closes the socket once it no longer watches it.
        if let registration {
            loop.unregister(registration, descriptor: socket, closing: true)
        } else {
            Glibc.close(socket)
        }
        loop.connectionClosed(self)
    }
}
