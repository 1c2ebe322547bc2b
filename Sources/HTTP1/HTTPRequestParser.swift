/// What the parser has read from the bytes fed to it so far.
public enum HTTPParserEvent: Sendable, Equatable {
    /// A complete, validated request line and header section. The body (possibly empty)
    /// follows in an `end` event.
    case head(HTTPRequestHead)
    /// The rest of the request: the decoded body and, for chunked bodies, the trailer fields.
    case end(body: [UInt8], trailers: HTTPHeaders)
}

/// An incremental HTTP/1.1 request parser (RFC 9112): a pure state machine over bytes.
///
/// Feed it bytes in any split with `append`, then pull events with `nextEvent` until it
/// returns nil (it needs more bytes). The events do not depend on how the input was split.
/// After an error the parser stays failed: the connection must answer that error and close.
public struct HTTPRequestParser: Sendable {
    /// Which part of a request the parser is waiting in, for the connection's timers.
    public enum Phase: Sendable, Equatable {
        /// Between requests, with nothing buffered.
        case idle
        /// Inside a request line or header section.
        case head
        /// Inside a body.
        case body
    }

    private enum State: Sendable, Equatable {
        case requestLine
        case fieldLines
        case fixedLengthBody(remaining: Int)
        case chunkedBody
        case bodyComplete
        case failed(HTTPParseError)
    }

    /// What is known of the head being read, until its blank line completes it.
    private struct PartialHead: Sendable {
        var method = HTTPMethod.get
        var target = ""
        var path = ""
        var query: String?
        var version = HTTPVersion.http1_1
        var headers = HTTPHeaders()
        var headerSectionBytes = 0
        var contentLength: Int?
        var hasTransferEncoding = false
        var transferCodings: [String] = []
        var hostCount = 0
        var connectionClose = false
        var connectionKeepAlive = false
        var expectsContinue = false
    }

    /// The limits this parser enforces.
    public let limits: HTTPParserLimits

    private var state = State.requestLine
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var scannedLineBytes = 0
    private var skippedEmptyLineBytes = 0
    private var head = PartialHead()
    private var chunkDecoder: HTTPChunkedBodyDecoder
    private var body: [UInt8] = []
    private var trailers = HTTPHeaders()

    /// Input buffers larger than this are released rather than kept for reuse once drained,
    /// so a body that passed through does not pin memory for the life of a keep-alive
    /// connection (a thousand idle connections keeping 256 KiB each would hold 256 MiB).
    private static let retainedBufferCapacity = 16 * 1024

    /// How much of a `Content-Length` body the parser reserves room for by itself; the caller
    /// may reserve the rest with `reserveBodyCapacity` once it has admitted the body.
    private static let initialBodyCapacity = 256 * 1024

    /// A parser waiting for the first byte of a request.
    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        self.limits = limits
        chunkDecoder = HTTPChunkedBodyDecoder(limits: limits)
    }

    /// Bytes received but not yet turned into events.
    public var bufferedByteCount: Int {
        buffer.count - readIndex
    }

    /// Where in a request the parser is.
    public var phase: Phase {
        switch state {
        case .requestLine:
            bufferedByteCount == 0 && skippedEmptyLineBytes == 0 ? .idle : .head
        case .fieldLines:
            .head
        case .fixedLengthBody, .chunkedBody, .bodyComplete:
            .body
        case .failed:
            .idle
        }
    }

    /// The body bytes the request being read has announced so far: for a `Content-Length`
    /// body its length, for a chunked one the bytes decoded plus the rest of the chunk whose
    /// size line has arrived; zero outside a body. What a caller must have room for before
    /// more input is parsed.
    public var announcedBodyBytes: Int {
        switch state {
        case .fixedLengthBody(let remaining): body.count + remaining
        case .chunkedBody: body.count + chunkDecoder.announcedDataBytes
        case .bodyComplete: body.count
        case .requestLine, .fieldLines, .failed: 0
        }
    }

    /// Reserves room for `byteCount` body bytes at once, so a body of known length that the
    /// caller has admitted grows without copies and without the slack of doubling. (Large
    /// allocations are mapped lazily, so untouched room costs address space, not memory.)
    public mutating func reserveBodyCapacity(_ byteCount: Int) {
        body.reserveCapacity(byteCount)
    }

    /// Adds received bytes.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    /// Adds received bytes.
    public mutating func append(contentsOf bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next event the buffered bytes complete, or nil when more bytes are needed.
    public mutating func nextEvent() throws(HTTPParseError) -> HTTPParserEvent? {
        if case .failed(let error) = state { throw error }
        do {
            let event = try parseNext()
            compactBuffer()
            return event
        } catch {
            state = .failed(error)
            throw error
        }
    }

    // MARK: - The message, top-down (RFC 9112 §2.1: start-line *( field-line CRLF ) CRLF [ body ])

    private mutating func parseNext() throws(HTTPParseError) -> HTTPParserEvent? {
        while true {
            switch state {
            case .requestLine:
                let budget = limits.maxRequestLineBytes - skippedEmptyLineBytes
                guard let line = try nextLine(limit: budget, tooLong: .requestLineTooLong(limit: limits.maxRequestLineBytes)) else {
                    return nil
                }
                if line.isEmpty {
                    // RFC 9112 §2.2: empty lines before a request line are skipped (some clients
                    // send a CRLF after a body); they count against the request line's budget.
                    skippedEmptyLineBytes += 2
                    continue
                }
                try parseRequestLine(line)
                state = .fieldLines

            case .fieldLines:
                let budget = limits.maxHeaderBytes - head.headerSectionBytes
                guard let line = try nextLine(limit: budget, tooLong: .headerSectionTooLarge(limit: limits.maxHeaderBytes)) else {
                    return nil
                }
                head.headerSectionBytes += line.count + 2
                if line.isEmpty {
                    return .head(try finishHead())
                }
                try parseFieldLine(line)

            case .fixedLengthBody(let remaining):
                let available = buffer.count - readIndex
                guard available > 0 else { return nil }
                let taken = min(available, remaining)
                body.append(contentsOf: buffer[readIndex..<(readIndex + taken)])
                readIndex += taken
                guard taken == remaining else {
                    state = .fixedLengthBody(remaining: remaining - taken)
                    return nil
                }
                state = .bodyComplete

            case .chunkedBody:
                let (consumed, isComplete) = try chunkDecoder.decode(buffer, from: readIndex, into: &body, trailers: &trailers)
                readIndex += consumed
                guard isComplete else { return nil }
                state = .bodyComplete

            case .bodyComplete:
                let event = HTTPParserEvent.end(body: body, trailers: trailers)
                body = []
                trailers = HTTPHeaders()
                head = PartialHead()
                skippedEmptyLineBytes = 0
                state = .requestLine
                return event

            case .failed(let error):
                throw error
            }
        }
    }

    /// The next CRLF-terminated line, or nil if it has not fully arrived.
    private mutating func nextLine(limit: Int, tooLong: HTTPParseError) throws(HTTPParseError) -> Range<Int>? {
        switch HTTPSyntax.findLine(in: buffer, from: readIndex, scanned: &scannedLineBytes, limit: limit) {
        case .incomplete:
            return nil
        case .tooLong:
            throw tooLong
        case .bareLineFeed:
            throw .bareLineFeed
        case .line(let line, let next):
            readIndex = next
            return line
        }
    }

    // MARK: - Request line (RFC 9112 §3)

    /// `request-line = method SP request-target SP HTTP-version`, with single spaces: RFC 9112
    /// §3 allows lenient whitespace parsing, but a strict split leaves nothing to disagree on.
    private mutating func parseRequestLine(_ line: Range<Int>) throws(HTTPParseError) {
        guard let firstSpace = buffer[line].firstIndex(of: HTTPSyntax.space),
              let secondSpace = buffer[(firstSpace + 1)..<line.upperBound].firstIndex(of: HTTPSyntax.space)
        else { throw .malformedRequestLine }
        let method = line.lowerBound..<firstSpace
        let target = (firstSpace + 1)..<secondSpace
        let version = (secondSpace + 1)..<line.upperBound
        guard !method.isEmpty, !target.isEmpty else { throw .malformedRequestLine }
        // RFC 9110 §9.1: the method is a token; case matters and is kept.
        for index in method where !HTTPSyntax.isTokenCharacter(buffer[index]) { throw .malformedRequestLine }
        head.method = HTTPMethod(rawValue: String(decoding: buffer[method], as: UTF8.self))
        head.version = try parseVersion(version)
        try parseRequestTarget(target)
    }

    /// `HTTP-version = "HTTP" "/" DIGIT "." DIGIT` (RFC 9112 §2.3, case-sensitive).
    private func parseVersion(_ range: Range<Int>) throws(HTTPParseError) -> HTTPVersion {
        let bytes = buffer[range]
        guard bytes.count == 8, bytes.starts(with: "HTTP/".utf8),
              HTTPSyntax.isDigit(buffer[range.lowerBound + 5]),
              buffer[range.lowerBound + 6] == UInt8(ascii: "."),
              HTTPSyntax.isDigit(buffer[range.lowerBound + 7])
        else { throw .malformedRequestLine }
        let major = Int(buffer[range.lowerBound + 5] - UInt8(ascii: "0"))
        let minor = Int(buffer[range.lowerBound + 7] - UInt8(ascii: "0"))
        // RFC 9110 §15.6.6: a major version the server does not speak gets 505.
        guard major == 1 else { throw .unsupportedVersion }
        return HTTPVersion(major: major, minor: minor)
    }

    /// The four forms of RFC 9112 §3.2, each only with the methods that may use it.
    private mutating func parseRequestTarget(_ range: Range<Int>) throws(HTTPParseError) {
        // RFC 3986 §2: a URI is visible ASCII; a fragment is never sent (RFC 9112 §3.2).
        for index in range {
            let byte = buffer[index]
            guard (0x21...0x7E).contains(byte), byte != UInt8(ascii: "#") else { throw .invalidRequestTarget }
        }
        let target = String(decoding: buffer[range], as: UTF8.self)
        head.target = target
        if buffer[range.lowerBound] == HTTPSyntax.slash {
            // origin-form = absolute-path [ "?" query ]
            splitPathAndQuery(range)
        } else if target == "*" {
            // RFC 9112 §3.2.4: asterisk-form is only for a server-wide OPTIONS.
            guard head.method == .options else { throw .invalidRequestTarget }
            head.path = target
        } else if head.method == .connect {
            // RFC 9112 §3.2.3: authority-form, only for CONNECT.
            head.path = target
        } else if let authorityStart = Self.authorityStart(ofAbsoluteForm: buffer, range) {
            // RFC 9112 §3.2.2: absolute-form; the path is what follows the authority.
            var pathStart = authorityStart
            while pathStart < range.upperBound,
                  buffer[pathStart] != HTTPSyntax.slash, buffer[pathStart] != HTTPSyntax.questionMark {
                pathStart += 1
            }
            guard pathStart > authorityStart else { throw .invalidRequestTarget }
            splitPathAndQuery(pathStart..<range.upperBound)
            if head.path.isEmpty { head.path = "/" }
        } else {
            throw .invalidRequestTarget
        }
    }

    private mutating func splitPathAndQuery(_ range: Range<Int>) {
        if let question = buffer[range].firstIndex(of: HTTPSyntax.questionMark) {
            head.path = String(decoding: buffer[range.lowerBound..<question], as: UTF8.self)
            head.query = String(decoding: buffer[(question + 1)..<range.upperBound], as: UTF8.self)
        } else {
            head.path = String(decoding: buffer[range], as: UTF8.self)
            head.query = nil
        }
    }

    /// The index just past `http://` or `https://` (scheme case-insensitive), or nil.
    private static func authorityStart(ofAbsoluteForm bytes: [UInt8], _ range: Range<Int>) -> Int? {
        for scheme in ["http://", "https://"] {
            let length = scheme.utf8.count
            guard range.count > length else { continue }
            let matches = zip(bytes[range.lowerBound..<(range.lowerBound + length)], scheme.utf8)
                .allSatisfy { HTTPSyntax.lowercased($0) == $1 }
            if matches { return range.lowerBound + length }
        }
        return nil
    }

    // MARK: - Header fields (RFC 9112 §5, RFC 9110 §5)

    private mutating func parseFieldLine(_ line: Range<Int>) throws(HTTPParseError) {
        let (name, value) = try HTTPSyntax.splitFieldLine(buffer, line)
        guard head.headers.count < limits.maxHeaderCount else {
            throw .tooManyHeaderFields(limit: limits.maxHeaderCount)
        }
        try interpretField(name: name, value: value)
        // The value's octets are kept as they are (RFC 9110 §5.5: obs-text is opaque).
        head.headers.add(name: String(decoding: buffer[name], as: UTF8.self), valueBytes: Array(buffer[value]))
    }

    /// Records the fields that decide framing and connection handling.
    private mutating func interpretField(name: Range<Int>, value: Range<Int>) throws(HTTPParseError) {
        if HTTPSyntax.bytes(buffer, in: name, equalIgnoringCase: "content-length") {
            // RFC 9112 §6.3 ¶5: a repeated Content-Length is an unrecoverable framing error;
            // FlyingFox-style "last one wins" is exactly what smuggling exploits.
            guard head.contentLength == nil else { throw .duplicateContentLength }
            head.contentLength = try parseContentLength(value)
        } else if HTTPSyntax.bytes(buffer, in: name, equalIgnoringCase: "transfer-encoding") {
            head.hasTransferEncoding = true
            forEachListElement(value) { element in
                head.transferCodings.append(String(decoding: buffer[element].map(HTTPSyntax.lowercased), as: UTF8.self))
            }
        } else if HTTPSyntax.bytes(buffer, in: name, equalIgnoringCase: "host") {
            head.hostCount += 1
            // RFC 9112 §3.2: more than one Host field line gets 400.
            guard head.hostCount == 1 else { throw .duplicateHost }
            try validateHost(value)
        } else if HTTPSyntax.bytes(buffer, in: name, equalIgnoringCase: "connection") {
            forEachListElement(value) { option in
                if HTTPSyntax.bytes(buffer, in: option, equalIgnoringCase: "close") { head.connectionClose = true }
                if HTTPSyntax.bytes(buffer, in: option, equalIgnoringCase: "keep-alive") { head.connectionKeepAlive = true }
            }
        } else if HTTPSyntax.bytes(buffer, in: name, equalIgnoringCase: "expect") {
            // RFC 9110 §10.1.1: 100-continue is the only expectation defined; others get 417.
            guard HTTPSyntax.bytes(buffer, in: value, equalIgnoringCase: "100-continue") else {
                throw .unsupportedExpectation
            }
            head.expectsContinue = true
        }
    }

    /// `Content-Length = 1*DIGIT` (RFC 9110 §8.6): no sign, no spaces, no list, no overflow.
    private func parseContentLength(_ range: Range<Int>) throws(HTTPParseError) -> Int {
        guard !range.isEmpty else { throw .invalidContentLength }
        var length = 0
        for index in range {
            let byte = buffer[index]
            guard HTTPSyntax.isDigit(byte) else { throw .invalidContentLength }
            let (shifted, shiftOverflow) = length.multipliedReportingOverflow(by: 10)
            let (sum, addOverflow) = shifted.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            if shiftOverflow || addOverflow { throw .invalidContentLength }
            length = sum
        }
        return length
    }

    /// `Host = uri-host [ ":" port ]` (RFC 9110 §7.2): reg-name, IP literal or IPv4 characters.
    private func validateHost(_ range: Range<Int>) throws(HTTPParseError) {
        for index in range where !HTTPSyntax.isHostCharacter(buffer[index]) { throw .invalidHost }
    }

    /// Calls `body` with each non-empty, trimmed element of a comma-separated list
    /// (RFC 9110 §5.6.1: empty elements are ignored).
    private func forEachListElement(_ range: Range<Int>, _ body: (Range<Int>) -> Void) {
        var start = range.lowerBound
        while start <= range.upperBound {
            let end = buffer[start..<range.upperBound].firstIndex(of: HTTPSyntax.comma) ?? range.upperBound
            let element = HTTPSyntax.trimmingWhitespace(buffer, start..<end)
            if !element.isEmpty { body(element) }
            start = end + 1
        }
    }

    // MARK: - End of the head: message framing (RFC 9112 §6.3)

    private mutating func finishHead() throws(HTTPParseError) -> HTTPRequestHead {
        // RFC 9112 §3.2: an HTTP/1.1 request without Host gets 400.
        if head.version.isAtLeastHTTP1_1 && head.hostCount == 0 { throw .missingHost }
        let framing = try bodyFraming()
        let wantsKeepAlive = head.version.isAtLeastHTTP1_1
            ? !head.connectionClose
            : head.connectionKeepAlive && !head.connectionClose
        // RFC 9110 §10.1.1: a 100-continue expectation in HTTP/1.0 is ignored, and one without
        // a body has nothing to wait for.
        let expectsContinue = head.expectsContinue && head.version.isAtLeastHTTP1_1 && framing != .none
        switch framing {
        case .none:
            state = .bodyComplete
        case .contentLength(let length):
            body.reserveCapacity(min(length, Self.initialBodyCapacity))
            state = .fixedLengthBody(remaining: length)
        case .chunked:
            chunkDecoder = HTTPChunkedBodyDecoder(limits: limits)
            state = .chunkedBody
        }
        return HTTPRequestHead(
            method: head.method, target: head.target, path: head.path, query: head.query,
            version: head.version, headers: head.headers, bodyFraming: framing,
            wantsKeepAlive: wantsKeepAlive, expectsContinue: expectsContinue
        )
    }

    private func bodyFraming() throws(HTTPParseError) -> HTTPRequestHead.BodyFraming {
        if head.hasTransferEncoding {
            // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means the framing is faulty.
            guard head.version.isAtLeastHTTP1_1 else { throw .transferEncodingInHTTP10 }
            // RFC 9112 §6.1 / §6.3 ¶3: both headers is how request smuggling starts; reject.
            guard head.contentLength == nil else { throw .contentLengthWithTransferEncoding }
            // RFC 9112 §6.3 ¶4: if chunked is not the final coding the length is unknowable.
            guard head.transferCodings.last == "chunked" else { throw .invalidTransferEncoding }
            // RFC 9112 §7: chunked is never applied more than once.
            let others = head.transferCodings.dropLast()
            guard !others.contains("chunked") else { throw .invalidTransferEncoding }
            // RFC 9112 §6.1: a transfer coding the server does not implement gets 501.
            if let unsupported = others.first { throw .unsupportedTransferCoding(unsupported) }
            return .chunked
        }
        if let length = head.contentLength {
            // Refused before any body byte is read (RFC 9110 §15.5.14).
            guard length <= limits.maxBodyBytes else { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
            return length == 0 ? .none : .contentLength(length)
        }
        // RFC 9112 §6.3 ¶7: a request without either header has no body.
        return .none
    }

    // MARK: - Buffer housekeeping

    private mutating func compactBuffer() {
        if readIndex == buffer.count {
            if buffer.capacity > Self.retainedBufferCapacity {
                buffer = []
            } else {
                buffer.removeAll(keepingCapacity: true)
            }
            readIndex = 0
        } else if readIndex >= 4096, readIndex * 2 >= buffer.count {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }
}
