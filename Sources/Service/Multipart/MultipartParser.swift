/// Reads `multipart/form-data` request bodies (RFC 7578, with the framing of RFC 2046 §5.1).
///
/// It works on a complete body and returns its parts as slices of it, without copying
/// content. Every malformation is a typed `MultipartError`, and the limits bound the work a
/// hostile body can cause.
///
/// Lines must end with CRLF, as RFC 7578 §4.1 and RFC 2046 §5.1.1 require. Bodies that end
/// lines with LF alone are refused (`MultipartError.bareLineFeeds`) rather than guessed at:
/// treating LF as a line end would make any `LF--boundary` inside binary image data cut the
/// image short. A `--boundary` that is not followed by optional spaces or tabs and then CRLF
/// (or by `--`) is not a delimiter but content, so a boundary that is a prefix of a longer
/// line leaves that line alone.
public struct MultipartParser: Sendable {
    /// Bounds on the work one body may cause.
    public struct Limits: Sendable, Equatable {
        /// Most parts in one body.
        public var maxParts: Int
        /// Largest header section of one part, in bytes, with its line ends and the blank
        /// line that closes it.
        public var maxPartHeaderBytes: Int
        /// Largest body, in bytes.
        public var maxBodyBytes: Int

        /// Limits for a form of a few fields and images.
        public init(maxParts: Int = 64, maxPartHeaderBytes: Int = 8 * 1024, maxBodyBytes: Int = 32 * 1024 * 1024) {
            self.maxParts = maxParts
            self.maxPartHeaderBytes = maxPartHeaderBytes
            self.maxBodyBytes = maxBodyBytes
        }
    }

    /// The limits this parser enforces.
    public var limits: Limits

    /// A parser enforcing `limits`.
    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// The parts of `body`, with the boundary taken from the request's `contentType`.
    public func parse(_ body: [UInt8], contentType: String) throws(MultipartError) -> [MultipartPart] {
        try parse(body, boundary: Self.boundary(fromContentType: contentType))
    }

    /// The parts of `body`, delimited by `boundary` (without its leading `--`), in order.
    /// Parts may share a name (several `images` parts are one field with several files).
    // RFC 2046 §5.1.1:
    //   multipart-body := [preamble CRLF] dash-boundary transport-padding CRLF body-part
    //                     *encapsulation close-delimiter transport-padding [CRLF epilogue]
    //   encapsulation  := delimiter transport-padding CRLF body-part
    //   delimiter      := CRLF dash-boundary
    //   close-delimiter := delimiter "--"
    public func parse(_ body: [UInt8], boundary: [UInt8]) throws(MultipartError) -> [MultipartPart] {
        try Self.checkBoundary(boundary)
        guard body.count <= limits.maxBodyBytes else { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
        let framing = Framing(body: body, boundary: boundary)

        var afterBoundary = try framing.openingDelimiterEnd()
        var parts: [MultipartPart] = []
        while case let .partStarts(at: partStart) = framing.delimiterEnding(at: afterBoundary) {
            guard parts.count < limits.maxParts else { throw .tooManyParts(limit: limits.maxParts) }
            let (headers, contentStart) = try readHeaders(of: body, from: partStart, part: parts.count + 1)
            var part = try headers.describedPart()
            guard let delimiter = framing.nextDelimiter(from: contentStart) else {
                throw framing.endsLinesWithBareLineFeeds(from: contentStart) ? .bareLineFeeds : .missingClosingDelimiter
            }
            part.body = body[contentStart..<delimiter]
            parts.append(part)
            afterBoundary = delimiter + framing.delimiter.pattern.count
        }
        // The close delimiter: transport padding and the epilogue after it are ignored.
        return parts
    }

    /// Reads the header lines of part number `part`, which start at `start`, up to the blank
    /// line that ends them; returns them and where the part's content starts.
    // RFC 2046 §5.1.1: body-part := MIME-part-headers [CRLF *OCTET]
    private func readHeaders(
        of body: [UInt8], from start: Int, part: Int
    ) throws(MultipartError) -> (MultipartPartHeaders, contentStart: Int) {
        var headers = MultipartPartHeaders(part: part)
        let end = min(body.count, start + limits.maxPartHeaderBytes)
        var lineStart = start
        while true {
            var lineEnd = lineStart
            while lineEnd < end, body[lineEnd] != Framing.cr, body[lineEnd] != Framing.lf { lineEnd += 1 }
            guard lineEnd + 1 < end else {
                throw end == body.count
                    ? .missingClosingDelimiter
                    : .partHeaderTooLarge(part: part, limit: limits.maxPartHeaderBytes)
            }
            guard body[lineEnd] == Framing.cr, body[lineEnd + 1] == Framing.lf else {
                throw .invalidPartHeader(part: part, reason: "a line ends with a bare CR or LF; header lines end with CRLF")
            }
            if lineEnd == lineStart { return (headers, lineEnd + 2) }
            try headers.add(line: body[lineStart..<lineEnd])
            lineStart = lineEnd + 2
        }
    }
}

/// Where the boundary delimiters of one body are, by RFC 2046 §5.1.1.
private struct Framing {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let dash = UInt8(ascii: "-")

    let body: [UInt8]
    /// `--` and the boundary.
    let dashBoundary: [UInt8]
    /// A search for CRLF, `--` and the boundary.
    let delimiter: DelimiterSearch

    init(body: [UInt8], boundary: [UInt8]) {
        self.body = body
        dashBoundary = [Self.dash, Self.dash] + boundary
        delimiter = DelimiterSearch(pattern: [Self.cr, Self.lf] + dashBoundary)
    }

    /// What follows a dash-boundary.
    enum Ending {
        /// `--`: the close delimiter; the last part has ended.
        case close
        /// Transport padding and CRLF: the next part starts at the given index.
        case partStarts(at: Int)
    }

    /// How the dash-boundary ending just before `index` ends, or nil when it is not a
    /// delimiter at all (a longer line that only begins like one).
    func delimiterEnding(at index: Int) -> Ending? {
        if index + 1 < body.count, body[index] == Self.dash, body[index + 1] == Self.dash { return .close }
        var position = index
        // RFC 2046 §5.1.1: transport-padding := *LWSP-char
        while position < body.count, HeaderSyntax.isWhitespace(body[position]) { position += 1 }
        guard position + 1 < body.count, body[position] == Self.cr, body[position + 1] == Self.lf else { return nil }
        return .partStarts(at: position + 2)
    }

    /// The index just after the dash-boundary that opens the first part: at the very start
    /// of the body, or after a preamble and its CRLF.
    func openingDelimiterEnd() throws(MultipartError) -> Int {
        if body.starts(with: dashBoundary), delimiterEnding(at: dashBoundary.count) != nil {
            return dashBoundary.count
        }
        guard let index = nextDelimiter(from: 0) else {
            throw endsLinesWithBareLineFeeds(from: 0) ? .bareLineFeeds : .missingOpeningDelimiter
        }
        return index + delimiter.pattern.count
    }

    /// The index of the CRLF that starts the next real delimiter at or after `start`.
    func nextDelimiter(from start: Int) -> Int? {
        var searchFrom = start
        while let candidate = delimiter.firstIndex(in: body, from: searchFrom) {
            if delimiterEnding(at: candidate + delimiter.pattern.count) != nil { return candidate }
            searchFrom = candidate + 1
        }
        return nil
    }

    /// Whether, from `start` on, a dash-boundary line starts or ends with LF alone: the
    /// likely reason no delimiter was found, worth its own error message.
    func endsLinesWithBareLineFeeds(from start: Int) -> Bool {
        func endsWithBareLineFeed(after index: Int) -> Bool {
            if index + 1 < body.count, body[index] == Self.dash, body[index + 1] == Self.dash { return true }
            var position = index
            while position < body.count, HeaderSyntax.isWhitespace(body[position]) { position += 1 }
            return position < body.count && body[position] == Self.lf
        }
        if start == 0, body.starts(with: dashBoundary), endsWithBareLineFeed(after: dashBoundary.count) { return true }
        let lineStart = DelimiterSearch(pattern: [Self.lf] + dashBoundary)
        var searchFrom = start
        while let candidate = lineStart.firstIndex(in: body, from: searchFrom) {
            let afterCR = candidate > 0 && body[candidate - 1] == Self.cr
            if !afterCR, endsWithBareLineFeed(after: candidate + lineStart.pattern.count) { return true }
            searchFrom = candidate + 1
        }
        return false
    }
}
