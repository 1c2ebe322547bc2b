import Testing
@testable import HTTP1

/// Everything the parser produced from one input: its events, then the error it stopped at.
struct ParseOutcome: Equatable {
    var events: [HTTPParserEvent] = []
    var error: HTTPParseError?
}

/// Feeds `input` to a fresh parser in pieces of `pieceSize` bytes (the whole input when
/// nil), pulling every event after each piece.
func parse(_ input: [UInt8], pieceSize: Int? = nil, limits: HTTPParserLimits = HTTPParserLimits()) -> ParseOutcome {
    var parser = HTTPRequestParser(limits: limits)
    var outcome = ParseOutcome()
    let size = max(1, pieceSize ?? input.count)
    var start = 0
    repeat {
        let end = min(input.count, start + size)
        parser.append(contentsOf: input[start..<end])
        start = end
        do {
            while let event = try parser.nextEvent() { outcome.events.append(event) }
        } catch {
            outcome.error = error
            return outcome
        }
    } while start < input.count
    return outcome
}

func parse(_ input: String, pieceSize: Int? = nil, limits: HTTPParserLimits = HTTPParserLimits()) -> ParseOutcome {
    parse(Array(input.utf8), pieceSize: pieceSize, limits: limits)
}

/// The error a request is rejected with, checked to be the same whichever way it is split.
func rejection(_ input: String, limits: HTTPParserLimits = HTTPParserLimits()) -> HTTPParseError? {
    let whole = parse(input, limits: limits)
    let byteByByte = parse(input, pieceSize: 1, limits: limits)
    #expect(whole == byteByByte, "the outcome must not depend on how the input is split")
    return whole.error
}

@Suite struct HTTPRequestParserTests {
    /// RFC 9110 §5.5: octets above 0x7F are opaque; they reach the head as sent, invalid
    /// UTF-8 included, in headers and trailers alike.
    @Test func headerValuesKeepOctetsAbove0x7F() throws {
        let octets: [UInt8] = Array(0x80...0xFF) + [0xC3, 0x28]
        let request = Array("POST / HTTP/1.1\r\nHost: h\r\nX-Opaque: ".utf8) + octets
            + Array("\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Trailer: ".utf8) + octets + Array("\r\n\r\n".utf8)
        for pieceSize in [nil, 1] {
            let outcome = parse(request, pieceSize: pieceSize)
            #expect(outcome.error == nil)
            guard case .head(let head) = outcome.events.first, case .end(_, let trailers) = outcome.events.last else {
                Issue.record("expected a head and an end, got \(outcome.events)")
                return
            }
            #expect(head.headers.valueBytes(for: "X-Opaque") == octets)
            #expect(trailers.valueBytes(for: "X-Trailer") == octets)
        }
    }

    @Test func parsesASimpleGet() throws {
        let outcome = parse("GET /healthz?verbose=1 HTTP/1.1\r\nHost: example.com\r\nX-Trace: a b\r\n\r\n")
        #expect(outcome.error == nil)
        guard case .head(let head) = outcome.events.first else {
            Issue.record("expected a head, got \(outcome.events)")
            return
        }
        #expect(head.method == .get)
        #expect(head.target == "/healthz?verbose=1")
        #expect(head.path == "/healthz")
        #expect(head.query == "verbose=1")
        #expect(head.version == .http1_1)
        #expect(head.headers["host"] == "example.com")
        #expect(head.headers["X-TRACE"] == "a b")
        #expect(head.bodyFraming == .none)
        #expect(head.wantsKeepAlive)
        #expect(outcome.events.last == .end(body: [], trailers: HTTPHeaders()))
        #expect(outcome.events.count == 2)
    }

    @Test func eventsDoNotDependOnHowTheInputIsSplit() {
        let input = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
            + "POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;x=\"y\"\r\nabc\r\n0\r\nT: v\r\n\r\n"
            + "\r\nGET /c HTTP/1.0\r\n\r\n"
        let whole = parse(input)
        #expect(whole.error == nil)
        #expect(whole.events.count == 6)
        for size in [1, 2, 3, 7, 13, 64] {
            #expect(parse(input, pieceSize: size) == whole, "piece size \(size)")
        }
    }

    @Test func readsAContentLengthBody() {
        let outcome = parse("PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world", pieceSize: 4)
        #expect(outcome.events.last == .end(body: Array("hello world".utf8), trailers: HTTPHeaders()))
    }

    @Test func readsAChunkedBodyWithExtensionsAndTrailers() {
        let outcome = parse(
            "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip-not, chunked\r\n\r\n",
            pieceSize: 3
        )
        #expect(outcome.error == .unsupportedTransferCoding("gzip-not"))

        let chunked = parse(
            "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n"
                + "5;name=value;flag\r\nhello\r\n"
                + "001 ; q=\"a \\\"b\\\"\"\r\n \r\n"
                + "0\r\nChecksum: abc\r\nX-Other: 1\r\n\r\n",
            pieceSize: 5
        )
        #expect(chunked.error == nil)
        #expect(chunked.events.last == .end(body: Array("hello ".utf8), trailers: ["Checksum": "abc", "X-Other": "1"]))
        guard case .head(let head) = chunked.events.first else {
            Issue.record("expected a head")
            return
        }
        #expect(head.bodyFraming == .chunked)
    }

    @Test func keepAliveFollowsVersionAndConnection() throws {
        func head(_ text: String) -> HTTPRequestHead? {
            if case .head(let head) = parse(text).events.first { return head }
            return nil
        }
        #expect(head("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")?.wantsKeepAlive == false)
        #expect(head("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n")?.wantsKeepAlive == false)
        #expect(head("GET / HTTP/1.0\r\n\r\n")?.wantsKeepAlive == false)
        #expect(head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")?.wantsKeepAlive == true)
        #expect(head("GET / HTTP/1.1\r\nHost: h\r\n\r\n")?.wantsKeepAlive == true)
    }

    @Test func expectContinueIsOnlyHonouredWhereItMeansSomething() {
        func head(_ text: String) -> HTTPRequestHead? {
            if case .head(let head) = parse(text).events.first { return head }
            return nil
        }
        #expect(head("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n")?.expectsContinue == true)
        #expect(head("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n")?.expectsContinue == false)
        #expect(head("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")?.expectsContinue == false)
        #expect(rejection("POST / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n") == .unsupportedExpectation)
    }

    @Test func targetsOfEveryForm() {
        func head(_ text: String) -> HTTPRequestHead? {
            if case .head(let head) = parse(text).events.first { return head }
            return nil
        }
        let absolute = head("GET http://example.com:80/a/b?c=d HTTP/1.1\r\nHost: example.com\r\n\r\n")
        #expect(absolute?.path == "/a/b")
        #expect(absolute?.query == "c=d")
        #expect(head("GET HTTPS://example.com HTTP/1.1\r\nHost: x\r\n\r\n")?.path == "/")
        #expect(head("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")?.path == "*")
        #expect(head("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")?.path == "example.com:443")
        #expect(rejection("GET * HTTP/1.1\r\nHost: h\r\n\r\n") == .invalidRequestTarget)
        #expect(rejection("GET example.com HTTP/1.1\r\nHost: h\r\n\r\n") == .invalidRequestTarget)
        #expect(rejection("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n") == .invalidRequestTarget)
        #expect(rejection("GET /caf\u{e9} HTTP/1.1\r\nHost: h\r\n\r\n") == .invalidRequestTarget)
        #expect(rejection("GET http:/// HTTP/1.1\r\nHost: h\r\n\r\n") == .invalidRequestTarget)
    }

    @Test func requestLineRules() {
        #expect(rejection("GET  / HTTP/1.1\r\nHost: h\r\n\r\n") == .malformedRequestLine)
        #expect(rejection("GET / HTTP/1.1 \r\nHost: h\r\n\r\n") == .malformedRequestLine)
        #expect(rejection("GET /\r\n\r\n") == .malformedRequestLine)
        #expect(rejection("G(T / HTTP/1.1\r\nHost: h\r\n\r\n") == .malformedRequestLine)
        #expect(rejection("GET / http/1.1\r\nHost: h\r\n\r\n") == .malformedRequestLine)
        #expect(rejection("GET / HTTP/1.10\r\nHost: h\r\n\r\n") == .malformedRequestLine)
        #expect(rejection("GET / HTTP/2.0\r\nHost: h\r\n\r\n") == .unsupportedVersion)
        #expect(rejection("GET / HTTP/1.1\nHost: h\r\n\r\n") == .bareLineFeed)
        #expect(rejection("GET / HTTP/1.1\rHost: h\r\n\r\n") == .malformedRequestLine)
    }

    @Test func unknownMethodsParseSoTheServerCanAnswer501() {
        guard case .head(let head) = parse("BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n").events.first else {
            Issue.record("expected a head")
            return
        }
        #expect(head.method == HTTPMethod("BREW"))
        #expect(!head.method.isImplemented)
    }

    @Test func requestLineLimitGives414AsSoonAsItIsExceeded() {
        let limits = HTTPParserLimits(maxRequestLineBytes: 64)
        let exactly = "GET /" + String(repeating: "a", count: 64 - 16) + " HTTP/1.1\r\n"
        #expect(exactly.utf8.count == 64)
        #expect(rejection(exactly + "Host: h\r\n\r\n", limits: limits) == nil)
        let tooLong = "GET /" + String(repeating: "a", count: 64 - 15) + " HTTP/1.1\r\n"
        #expect(rejection(tooLong + "Host: h\r\n\r\n", limits: limits) == .requestLineTooLong(limit: 64))
        // No line end at all: refused once the limit is reached, not when the line ends.
        #expect(parse(String(repeating: "A", count: 64), limits: limits).error == .requestLineTooLong(limit: 64))
    }

    @Test func headerLimitsGive431() {
        let limits = HTTPParserLimits(maxHeaderBytes: 40, maxHeaderCount: 3)
        #expect(rejection("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", limits: limits) == nil)
        #expect(rejection("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits: limits) == .tooManyHeaderFields(limit: 3))
        #expect(rejection("GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + String(repeating: "v", count: 30) + "\r\n\r\n", limits: limits)
            == .headerSectionTooLarge(limit: 40))
        #expect(parse("GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "v", count: 100), limits: limits).error
            == .headerSectionTooLarge(limit: 40))
    }

    @Test func fieldLineRules() {
        #expect(rejection("GET / HTTP/1.1\r\nHost : h\r\n\r\n") == .whitespaceBeforeColon)
        #expect(rejection("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  folded\r\n\r\n") == .obsoleteLineFolding)
        #expect(rejection("GET / HTTP/1.1\r\n Host: h\r\n\r\n") == .obsoleteLineFolding)
        #expect(rejection("GET / HTTP/1.1\r\nHost: h\nX: 1\r\n\r\n") == .bareLineFeed)
        #expect(rejection("GET / HTTP/1.1\r\nHost: h\r\n\n") == .bareLineFeed)
        #expect(rejection("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n") == .malformedHeaderField)
        #expect(rejection("GET / HTTP/1.1\r\nHost: h\r\n: empty\r\n\r\n") == .malformedHeaderField)
        #expect(rejection("GET / HTTP/1.1\r\nHost: h\r\nBad\"Name: v\r\n\r\n") == .malformedHeaderField)
        #expect(rejection("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{0}b\r\n\r\n") == .invalidHeaderValue)
        #expect(rejection("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n") == .invalidHeaderValue)
    }

    @Test func hostRules() {
        #expect(rejection("GET / HTTP/1.1\r\n\r\n") == .missingHost)
        #expect(rejection("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n") == .duplicateHost)
        #expect(rejection("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n") == .duplicateHost)
        #expect(rejection("GET / HTTP/1.1\r\nHost: a b\r\n\r\n") == .invalidHost)
        #expect(rejection("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n") == .invalidHost)
        #expect(rejection("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n") == nil)
        #expect(rejection("GET / HTTP/1.0\r\n\r\n") == nil)
    }

    @Test(arguments: ["+5", "-1", "5 5", "5,5", "0x5", "", "99999999999999999999", "5 "])
    func malformedContentLengthIsRejected(value: String) {
        let error = rejection("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \(value)\r\n\r\nhello")
        // "5 " is trimmed to "5" (OWS around a field value is not part of it).
        #expect(error == (value == "5 " ? nil : .invalidContentLength))
    }

    @Test func duplicateContentLengthIsRejectedEvenWhenEqual() {
        #expect(rejection("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello")
            == .duplicateContentLength)
    }

    @Test func transferEncodingRules() {
        let prefix = "POST / HTTP/1.1\r\nHost: h\r\n"
        #expect(rejection(prefix + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n") == .contentLengthWithTransferEncoding)
        #expect(rejection(prefix + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n") == .contentLengthWithTransferEncoding)
        #expect(rejection(prefix + "Transfer-Encoding: chunked, gzip\r\n\r\n") == .invalidTransferEncoding)
        #expect(rejection(prefix + "Transfer-Encoding: chunked, chunked\r\n\r\n") == .invalidTransferEncoding)
        #expect(rejection(prefix + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n") == .invalidTransferEncoding)
        #expect(rejection(prefix + "Transfer-Encoding: \r\n\r\n") == .invalidTransferEncoding)
        #expect(rejection(prefix + "Transfer-Encoding: gzip\r\n\r\n") == .invalidTransferEncoding)
        #expect(rejection(prefix + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n") == .unsupportedTransferCoding("gzip"))
        #expect(rejection("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") == .transferEncodingInHTTP10)
        #expect(rejection(prefix + "Transfer-Encoding: , chunked\r\n\r\n0\r\n\r\n") == nil)
    }

    @Test func bodyLimitIsCheckedFromContentLengthAndFromEachChunkSize() {
        let limits = HTTPParserLimits(maxBodyBytes: 10)
        // Rejected at the head, with no body byte sent.
        #expect(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", limits: limits).error == .bodyTooLarge(limit: 10))
        #expect(rejection("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789", limits: limits) == nil)
        let chunked = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(rejection(chunked + "a\r\n0123456789\r\n0\r\n\r\n", limits: limits) == nil)
        // The second chunk's size line alone is enough to refuse it.
        #expect(parse(chunked + "6\r\n012345\r\n5\r\n", limits: limits).error == .bodyTooLarge(limit: 10))
    }

    @Test func chunkSyntaxRules() {
        let chunked = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(rejection(chunked + "zz\r\nhello\r\n0\r\n\r\n") == .invalidChunkSize)
        #expect(rejection(chunked + "\r\nhello\r\n0\r\n\r\n") == .invalidChunkSize)
        #expect(rejection(chunked + "-1\r\nhello\r\n0\r\n\r\n") == .invalidChunkSize)
        #expect(rejection(chunked + "0x5\r\nhello\r\n0\r\n\r\n") == .invalidChunkSize)
        #expect(rejection(chunked + "5 \r\nhello\r\n0\r\n\r\n") == .invalidChunkExtension)
        #expect(rejection(chunked + "5;\r\nhello\r\n0\r\n\r\n") == .invalidChunkExtension)
        #expect(rejection(chunked + "5;a=\"open\r\nhello\r\n0\r\n\r\n") == .invalidChunkExtension)
        #expect(rejection(chunked + "fffffffffffffffff\r\n") == .invalidChunkSize)
        #expect(rejection(chunked + "5\r\nhelloX\r\n0\r\n\r\n") == .missingChunkTerminator)
        #expect(rejection(chunked + "5\r\nhello\rX0\r\n\r\n") == .missingChunkTerminator)
        #expect(rejection(chunked + "5\nhello\r\n0\r\n\r\n") == .bareLineFeed)
        #expect(rejection(chunked + "0\r\nX : y\r\n\r\n") == .whitespaceBeforeColon)
        let limits = HTTPParserLimits(maxChunkLineBytes: 16)
        #expect(rejection(chunked + "5;" + String(repeating: "e", count: 20) + "\r\nhello\r\n0\r\n\r\n", limits: limits)
            == .chunkLineTooLong(limit: 16))
    }

    @Test func trailerSectionHasTheHeaderLimits() {
        let limits = HTTPParserLimits(maxHeaderBytes: 64, maxHeaderCount: 2)
        let chunked = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
        #expect(rejection(chunked + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits: limits) == .tooManyHeaderFields(limit: 2))
        #expect(rejection(chunked + "A: " + String(repeating: "x", count: 80) + "\r\n\r\n", limits: limits)
            == .headerSectionTooLarge(limit: 64))
    }

    @Test func aFailedParserStaysFailed() {
        var parser = HTTPRequestParser()
        parser.append(contentsOf: Array("GET / HTTP/1.1\r\nHost : h\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.whitespaceBeforeColon) { try parser.nextEvent() }
        parser.append(contentsOf: Array("GET / HTTP/1.1\r\nHost: h\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.whitespaceBeforeColon) { try parser.nextEvent() }
    }

    @Test func phaseTracksWhereInARequestTheParserWaits() throws {
        var parser = HTTPRequestParser()
        #expect(parser.phase == .idle)
        parser.append(contentsOf: Array("POST / HTTP/1.1\r\nHost: h\r\n".utf8))
        #expect(try parser.nextEvent() == nil)
        #expect(parser.phase == .head)
        parser.append(contentsOf: Array("Content-Length: 2\r\n\r\na".utf8))
        guard case .head = try parser.nextEvent() else {
            Issue.record("expected a head")
            return
        }
        #expect(try parser.nextEvent() == nil)
        #expect(parser.phase == .body)
        parser.append(contentsOf: [UInt8(ascii: "b")])
        #expect(try parser.nextEvent() == .end(body: Array("ab".utf8), trailers: HTTPHeaders()))
        #expect(parser.phase == .idle)
        #expect(parser.bufferedByteCount == 0)
    }
}
