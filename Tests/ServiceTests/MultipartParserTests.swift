import Foundation
import Testing
@testable import Service

/// `multipart/form-data` bodies as browsers and HTTP clients send them, and as attackers and
/// broken clients do.
@Suite struct MultipartParserTests {
    static let boundary = "----formBoundary7MA4YWxkTrZu0gW"
    let parser = MultipartParser()

    /// `text` with every `\n` turned into CRLF, as UTF-8 bytes.
    static func crlf(_ text: String) -> [UInt8] {
        Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
    }

    /// A body of `parts` (header lines and content), framed with `boundary` and CRLF.
    static func form(_ parts: [(headers: [String], content: [UInt8])], boundary: String = boundary) -> [UInt8] {
        var body: [UInt8] = []
        for part in parts {
            body += Array("--\(boundary)\r\n".utf8)
            for header in part.headers { body += Array("\(header)\r\n".utf8) }
            body += Array("\r\n".utf8) + part.content + Array("\r\n".utf8)
        }
        return body + Array("--\(boundary)--\r\n".utf8)
    }

    func parse(_ body: [UInt8], boundary: String = boundary) throws(MultipartError) -> [MultipartPart] {
        try parser.parse(body, boundary: Array(boundary.utf8))
    }

    @Test func readsFieldsAndFiles() throws {
        let image: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x2D, 0x2D, 0xFF, 0x0D, 0x0A]
        let body = Self.form([
            (["Content-Disposition: form-data; name=\"class_name\""], Array("screw".utf8)),
            (["Content-Disposition: form-data; name=\"images\"; filename=\"good 1.png\"", "Content-Type: image/png"], image),
        ])
        let parts = try parser.parse(body, contentType: "multipart/form-data; boundary=\(Self.boundary)")
        #expect(parts.count == 2)
        #expect(parts[0] == MultipartPart(name: "class_name", body: parts[0].body))
        #expect(Array(parts[0].body) == Array("screw".utf8))
        #expect(parts[1].name == "images")
        #expect(parts[1].filename == "good 1.png")
        #expect(parts[1].contentType == "image/png")
        #expect(parts[1].mediaType == "image/png")
        #expect(Array(parts[1].body) == image)
    }

    @Test func partBodiesAreSlicesOfTheBody() throws {
        let body = Self.form([(["Content-Disposition: form-data; name=\"a\""], Array("hello".utf8))])
        let part = try #require(try parse(body).first)
        #expect(part.body.startIndex > 0)
        #expect(body[part.body.startIndex..<part.body.endIndex] == part.body)
    }

    @Test func ignoresPreambleAndEpilogue() throws {
        let body = Self.crlf("""
            This is the preamble; --\(Self.boundary) here is not at a line start.
            --\(Self.boundary)
            Content-Disposition: form-data; name="a"

            1
            --\(Self.boundary)--
            This is the epilogue.
            --\(Self.boundary)
            Content-Disposition: form-data; name="ignored"

            2

            """)
        let parts = try parse(body)
        #expect(parts.map(\.name) == ["a"])
        #expect(Array(parts[0].body) == Array("1".utf8))
    }

    @Test func acceptsTransportPaddingAfterDelimiters() throws {
        let body = Array("--\(Self.boundary) \t\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--\(Self.boundary)\t \r\nContent-Disposition: form-data; name=\"b\"\r\n\r\ny\r\n--\(Self.boundary)--  \r\n".utf8)
        #expect(try parse(body).map(\.name) == ["a", "b"])
    }

    @Test func acceptsCloseDelimiterWithoutFinalCRLF() throws {
        var body = Self.form([(["Content-Disposition: form-data; name=\"a\""], Array("x".utf8))])
        body.removeLast(2)
        #expect(body.suffix(2) == Array("--".utf8)[...])
        #expect(try parse(body).map(\.name) == ["a"])
    }

    @Test func contentMayEndWithItsOwnLineBreaks() throws {
        let body = Self.form([(["Content-Disposition: form-data; name=\"a\""], Array("line\r\n\r\n".utf8))])
        #expect(Array(try parse(body)[0].body) == Array("line\r\n\r\n".utf8))
    }

    @Test func boundaryTextInsideContentIsContent() throws {
        let tricky = [
            "--\(Self.boundary)",  // at the very start of the content, not after CRLF
            "xx\r\n--\(Self.boundary)X\r\n",  // a longer line that starts like a delimiter
            "\r\n--\(Self.boundary)-\r\n",  // one dash is not a close delimiter
            "\r\n--\(Self.boundary) x\r\n",  // text after padding
            "\r\n--\(String(Self.boundary.dropLast()))\r\n",  // a prefix of the boundary
            "\n--\(Self.boundary)\n",  // bare LF is not a line end
            "\r\n-\(Self.boundary)\r\n",
        ].joined(separator: "|")
        let body = Self.form([
            (["Content-Disposition: form-data; name=\"a\""], Array(tricky.utf8)),
            (["Content-Disposition: form-data; name=\"b\""], Array("after".utf8)),
        ])
        let parts = try parse(body)
        #expect(parts.map(\.name) == ["a", "b"])
        #expect(String(decoding: parts[0].body, as: UTF8.self) == tricky)
    }

    @Test func boundaryLineInsideContentEndsThePart() {
        // A sender that lets its boundary occur as a line of the content has broken the
        // format; the content is split there, and the second "part" has no headers.
        let content = "first\r\n--\(Self.boundary)\r\nsecond"
        let body = Self.form([(["Content-Disposition: form-data; name=\"a\""], Array(content.utf8))])
        #expect(throws: MultipartError.headerWithoutColon(part: 2)) { try parse(body) }
    }

    @Test func headerNamesAndDispositionAreCaseInsensitive() throws {
        let body = Self.form([(
            ["cOnTeNt-DiSpOsItIoN: FORM-DATA; NAME=\"Images\"; FileName=\"A.PNG\"", "CONTENT-TYPE:Image/PNG ", "X-Other: kept out"],
            [1, 2, 3]
        )])
        let part = try #require(try parse(body).first)
        #expect(part.name == "Images")
        #expect(part.filename == "A.PNG")
        #expect(part.contentType == "Image/PNG")
        #expect(part.mediaType == "image/png")
    }

    @Test func keepsPartsThatShareAName() throws {
        let body = Self.form((1...3).map { index in
            (["Content-Disposition: form-data; name=\"images\"; filename=\"\(index).png\""], [UInt8(index)])
        })
        let parts = try parse(body)
        #expect(parts.map(\.name) == ["images", "images", "images"])
        #expect(parts.map(\.filename) == ["1.png", "2.png", "3.png"])
        #expect(parts.map { Array($0.body) } == [[1], [2], [3]])
    }

    @Test func acceptsEmptyContentAndEmptyForms() throws {
        let body = Self.form([
            (["Content-Disposition: form-data; name=\"empty\""], []),
            (["Content-Disposition: form-data; name=\"\""], Array("x".utf8)),
        ])
        let parts = try parse(body)
        #expect(parts.map(\.name) == ["empty", ""])
        #expect(parts[0].body.isEmpty)
        #expect(try parse(Array("--\(Self.boundary)--\r\n".utf8)).isEmpty)
    }

    @Test func partWithoutHeadersIsRefused() {
        let body = Array("--\(Self.boundary)\r\n\r\n--\(Self.boundary)--\r\n".utf8)
        #expect(throws: MultipartError.missingContentDisposition(part: 1)) { try parse(body) }
        let second = Self.form([(["Content-Disposition: form-data; name=\"a\""], []), (["Content-Type: text/plain"], [])])
        #expect(throws: MultipartError.missingContentDisposition(part: 2)) { try parse(second) }
    }

    @Test func tenThousandTinyPartsStopAtTheLimit() {
        let body = Self.form(Array(repeating: (["Content-Disposition: form-data; name=\"p\""], [UInt8(ascii: "x")]), count: 10_000))
        let limited = MultipartParser(limits: .init(maxParts: 100))
        #expect(throws: MultipartError.tooManyParts(limit: 100)) {
            try limited.parse(body, boundary: Array(Self.boundary.utf8))
        }
    }

    @Test func tenThousandTinyPartsWithinALargeLimit() throws {
        let body = Self.form((0..<10_000).map { index in
            (["Content-Disposition: form-data; name=\"p\(index)\""], Array(String(index).utf8))
        })
        let parser = MultipartParser(limits: .init(maxParts: 10_000))
        let parts = try parser.parse(body, boundary: Array(Self.boundary.utf8))
        #expect(parts.count == 10_000)
        #expect(parts[9_999].name == "p9999")
        #expect(Array(parts[1234].body) == Array("1234".utf8))
        #expect(throws: MultipartError.tooManyParts(limit: 9_999)) {
            try MultipartParser(limits: .init(maxParts: 9_999)).parse(body, boundary: Array(Self.boundary.utf8))
        }
    }

    @Test func largeBinaryContentSurvivesExactly() throws {
        var generator = SplitMix64(seed: 42)
        // Random bytes from a tiny alphabet, so CR, LF, dashes and boundary prefixes abound.
        let alphabet = Array("\r\n-\(Self.boundary.prefix(4))".utf8)
        let content = (0..<(1 << 20)).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
        let body = Self.form([
            (["Content-Disposition: form-data; name=\"images\"; filename=\"big.bin\""], content),
            (["Content-Disposition: form-data; name=\"class_name\""], Array("wafer".utf8)),
        ])
        let parts = try parse(body)
        #expect(parts.count == 2)
        #expect(parts[0].body.count == content.count)
        #expect(Array(parts[0].body) == content)
    }

    @Test func repetitiveBoundaryAndContentStayCorrect() throws {
        // A boundary of one repeated letter over content of that letter: every position
        // nearly matches. The search must stay exact (and linear, which is not timed here).
        let boundary = String(repeating: "a", count: 70)
        let content = Array(repeating: UInt8(ascii: "a"), count: 1 << 20) + Array("\r\n--".utf8) + Array(repeating: UInt8(ascii: "a"), count: 69)
        let body = Self.form([(["Content-Disposition: form-data; name=\"a\""], content)], boundary: boundary)
        let parts = try parse(body, boundary: boundary)
        #expect(parts.count == 1)
        #expect(Array(parts[0].body) == content)
    }

    @Test func bodyOverTheLimitIsRefusedBeforeParsing() {
        let body = Self.form([(["Content-Disposition: form-data; name=\"a\""], Array(repeating: 0, count: 2000))])
        let small = MultipartParser(limits: .init(maxBodyBytes: 1000))
        #expect(throws: MultipartError.bodyTooLarge(limit: 1000)) { try small.parse(body, boundary: Array(Self.boundary.utf8)) }
    }

    @Test func wrongBoundaryFindsNoOpeningDelimiter() {
        let body = Self.form([(["Content-Disposition: form-data; name=\"a\""], [])], boundary: "other")
        #expect(throws: MultipartError.missingOpeningDelimiter) { try parse(body) }
        #expect(throws: MultipartError.missingOpeningDelimiter) { try parse([]) }
        #expect(throws: MultipartError.missingOpeningDelimiter) { try parse(Array("--\(Self.boundary)".utf8)) }
    }

    @Test func bareLineFeedsAreRefusedWithTheirOwnError() {
        let crlfBody = Self.form([(["Content-Disposition: form-data; name=\"a\""], Array("x".utf8))])
        let lfBody = Array(String(decoding: crlfBody, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n").utf8)
        #expect(throws: MultipartError.bareLineFeeds) { try parse(lfBody) }
        #expect(throws: MultipartError.bareLineFeeds) { try parse(Array("preamble\n".utf8) + lfBody) }
        // CRLF framing that switches to LF before the end.
        let mixed = Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\n--\(Self.boundary)--\n".utf8)
        #expect(throws: MultipartError.bareLineFeeds) { try parse(mixed) }
    }

    @Test(arguments: [
        "--\(boundary)\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ncut short",
        "--\(boundary)\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--\(boundary)",
        "--\(boundary)\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--\(boundary)-",
        "--\(boundary)\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--\(boundary)  ",
        "--\(boundary)\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--\(boundary)\r",
        "--\(boundary)\r\nContent-Disposition: form-data; na",
        "--\(boundary)\r\nContent-Disposition: form-data; name=\"a\"\r\n",
        "--\(boundary)\r\nContent-Disposition: form-data; name=\"a\"\r",
    ])
    func truncatedBodyHasNoClosingDelimiter(text: String) {
        #expect(throws: MultipartError.missingClosingDelimiter) { try parse(Array(text.utf8)) }
    }

    @Test func partHeadersOverTheLimitAreRefused() throws {
        let header = "Content-Disposition: form-data; name=\"a\""
        let exact = header.utf8.count + 4  // the header line's CRLF and the blank line
        let body = Self.form([(["Content-Disposition: form-data; name=\"a\""], [])])
        let fits = MultipartParser(limits: .init(maxPartHeaderBytes: exact))
        #expect(try fits.parse(body, boundary: Array(Self.boundary.utf8)).count == 1)
        let tooSmall = MultipartParser(limits: .init(maxPartHeaderBytes: exact - 1))
        #expect(throws: MultipartError.partHeaderTooLarge(part: 1, limit: exact - 1)) {
            try tooSmall.parse(body, boundary: Array(Self.boundary.utf8))
        }
        // An endless header line stops at the limit, not at the end of the body.
        let endless = Array("--\(Self.boundary)\r\nX-Pad: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 100_000)
            + Array("\r\n\r\n\r\n--\(Self.boundary)--".utf8)
        #expect(throws: MultipartError.partHeaderTooLarge(part: 1, limit: 8 * 1024)) { try parse(endless) }
    }

    @Test(arguments: [
        (["Content-Disposition form-data; name=\"a\""], MultipartError.headerWithoutColon(part: 1)),
        (["Content-Disposition: form-data;", " name=\"a\""],
         .invalidPartHeader(part: 1, reason: "a line starts with whitespace (folded header lines are not accepted)")),
        (["Content-Disposition : form-data; name=\"a\""],
         .invalidPartHeader(part: 1, reason: "the header name 'Content-Disposition ' is not a token (no spaces before the colon)")),
        ([": form-data; name=\"a\""], .invalidPartHeader(part: 1, reason: "the header name '' is not a token (no spaces before the colon)")),
        (["Content-Disposition: form-data; name=\"a\"", "X-Bad: a\u{01}b"],
         .invalidPartHeader(part: 1, reason: "the X-Bad header holds a control character")),
        (["Content-Disposition: form-data; name=\"a\"", "Content-Disposition: form-data; name=\"b\""],
         .duplicateHeader(part: 1, name: "Content-Disposition")),
        (["Content-Disposition: form-data; name=\"a\"", "Content-Type: image/png", "content-type: image/jpeg"],
         .duplicateHeader(part: 1, name: "Content-Type")),
        (["Content-Type: image/png"], .missingContentDisposition(part: 1)),
        (["Content-Disposition: form-data; filename=\"a.png\""], .missingName(part: 1)),
        (["Content-Disposition: attachment; name=\"a\""],
         .invalidContentDisposition(part: 1, reason: "its type must be form-data, not 'attachment'")),
        (["Content-Disposition: form-data; name=\"a\"; name=\"b\""],
         .invalidContentDisposition(part: 1, reason: "parameter 'name' appears more than once")),
        (["Content-Disposition: form-data; name=\"a"],
         .invalidContentDisposition(part: 1, reason: "parameter 'name' has a quoted value without its closing quote")),
        (["Content-Disposition: form-data; name=a b"],
         .invalidContentDisposition(part: 1, reason: "expected ';' before a parameter")),
        (["Content-Disposition: form-data; name="],
         .invalidContentDisposition(part: 1, reason: "parameter 'name' has no value; quote it if it holds spaces or separators")),
        (["Content-Disposition: form-data; name=\"a\"", "Content-Transfer-Encoding: base64"],
         .unsupportedTransferEncoding(part: 1, encoding: "base64")),
    ] as [([String], MultipartError)])
    func malformedPartHeadersAreRefused(headers: [String], error: MultipartError) {
        let body = Self.form([(headers, Array("content".utf8))])
        #expect(throws: error) { try parse(body) }
    }

    @Test func bareCarriageReturnOrLineFeedInHeadersIsRefused() {
        for separator in ["\r", "\n"] {
            let body = Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"a\"\(separator)X-A: b\r\n\r\nx\r\n--\(Self.boundary)--".utf8)
            #expect(throws: MultipartError.invalidPartHeader(part: 1, reason: "a line ends with a bare CR or LF; header lines end with CRLF")) {
                try parse(body)
            }
        }
    }

    @Test func identityTransferEncodingsAreAccepted() throws {
        for encoding in ["binary", "8bit", "7BIT"] {
            let body = Self.form([(["Content-Disposition: form-data; name=\"a\"", "Content-Transfer-Encoding: \(encoding)"], [0])])
            #expect(try parse(body).count == 1)
        }
    }

    @Test func unquotesParameterValues() throws {
        let body = Self.form([
            (["Content-Disposition: form-data; name=\"a\\\"b\\\\c\"; filename=\"C:\\\\photos\\\\x.png\""], []),
            (["Content-Disposition: form-data;name=plain;filename=t.png"], []),
            (["Content-Disposition: form-data ;  name=\"sp ace\" ; ; filename=\"\""], []),
            (["Content-Disposition: form-data; name=\"caf\u{e9}\"; filename=\"\u{6587}.png\""], []),
        ])
        let parts = try parse(body)
        #expect(parts[0].name == "a\"b\\c")
        #expect(parts[0].filename == "C:\\photos\\x.png")
        #expect(parts[1].name == "plain")
        #expect(parts[1].filename == "t.png")
        #expect(parts[2].name == "sp ace")
        #expect(parts[2].filename == "")
        #expect(parts[3].name == "café")
        #expect(parts[3].filename == "文.png")
    }

    @Test func extendedFilenameIsToleratedAndPreferred() throws {
        let body = Self.form([
            (["Content-Disposition: form-data; name=\"a\"; filename=\"plain.png\"; filename*=UTF-8''na%C3%AFve%20%E2%82%AC.png"], []),
            (["Content-Disposition: form-data; name=\"b\"; filename*=utf-8'en'only.png"], []),
            (["Content-Disposition: form-data; name=\"c\"; filename=\"fallback.png\"; filename*=KOI8-R''%C1.png"], []),
            (["Content-Disposition: form-data; name=\"d\"; filename=\"fallback.png\"; filename*=UTF-8''bad%ZZ.png"], []),
            (["Content-Disposition: form-data; name=\"e\"; filename*=iso-8859-1''caf%E9.png"], []),
        ])
        let parts = try parse(body)
        #expect(parts.map(\.filename) == ["naïve €.png", "only.png", "fallback.png", "fallback.png", "café.png"])
    }

    @Test func mediaTypeIsTheLowercasedEssence() {
        #expect(MultipartPart(name: "a", contentType: " Image/PNG ; q=1", body: []).mediaType == "image/png")
        #expect(MultipartPart(name: "a", contentType: "image/jpeg", body: []).mediaType == "image/jpeg")
        #expect(MultipartPart(name: "a", body: []).mediaType == nil)
    }

    @Test func everyErrorExplainsItself() {
        let errors: [MultipartError] = [
            .notFormData(mediaType: "image/png"), .invalidContentType(reason: "r"), .missingBoundary,
            .invalidBoundary(reason: "r"), .bodyTooLarge(limit: 1), .missingOpeningDelimiter, .bareLineFeeds,
            .missingClosingDelimiter, .tooManyParts(limit: 1), .partHeaderTooLarge(part: 1, limit: 1),
            .headerWithoutColon(part: 1), .invalidPartHeader(part: 1, reason: "r"), .duplicateHeader(part: 1, name: "N"),
            .missingContentDisposition(part: 1), .invalidContentDisposition(part: 1, reason: "r"), .missingName(part: 1),
            .unsupportedTransferEncoding(part: 1, encoding: "base64"),
        ]
        #expect(Set(errors.map(\.description)).count == errors.count)
        #expect(errors.allSatisfy { !$0.description.isEmpty })
    }
}

/// A small deterministic random number generator (SplitMix64), so tests are repeatable.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
