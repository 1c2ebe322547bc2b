/// Decodes a chunked body (RFC 9112 §7.1) incrementally, from whatever part of it has
/// arrived, into the body bytes and the trailer fields.
///
/// ```
/// chunked-body = *chunk last-chunk trailer-section CRLF
/// chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
/// last-chunk   = 1*("0") [ chunk-ext ] CRLF
/// ```
struct HTTPChunkedBodyDecoder: Sendable {
    private enum State: Sendable {
        case sizeLine
        case data(remaining: Int)
        case dataTerminator
        case trailerLine
        case complete
    }

    private var state = State.sizeLine
    private var scannedLineBytes = 0
    private var trailerSectionBytes = 0
    private let limits: HTTPParserLimits

    /// A decoder at the start of a chunked body.
    init(limits: HTTPParserLimits) {
        self.limits = limits
    }

    /// Bytes of chunk data whose size line has arrived but which have not been decoded yet.
    var announcedDataBytes: Int {
        if case .data(let remaining) = state { return remaining }
        return 0
    }

    /// Decodes from `bytes[start...]`, appending chunk data to `body` and trailer fields to
    /// `trailers`. Returns how many bytes it consumed and whether the body ended; call again
    /// with the unconsumed bytes plus more input when it has not.
    mutating func decode(
        _ bytes: [UInt8], from start: Int, into body: inout [UInt8], trailers: inout HTTPHeaders
    ) throws(HTTPParseError) -> (consumed: Int, isComplete: Bool) {
        var position = start
        while true {
            switch state {
            case .sizeLine:
                switch HTTPSyntax.findLine(in: bytes, from: position, scanned: &scannedLineBytes, limit: limits.maxChunkLineBytes) {
                case .incomplete:
                    return (position - start, false)
                case .tooLong:
                    throw .chunkLineTooLong(limit: limits.maxChunkLineBytes)
                case .bareLineFeed:
                    throw .bareLineFeed
                case .line(let line, let next):
                    let size = try Self.chunkSize(bytes, line)
                    position = next
                    if size == 0 {
                        state = .trailerLine
                    } else {
                        // Refused from the size line, before the chunk is read, so an oversized
                        // body costs the server nothing (RFC 9112 §7.1 leaves the bound to us).
                        guard size <= limits.maxBodyBytes - body.count else {
                            throw .bodyTooLarge(limit: limits.maxBodyBytes)
                        }
                        state = .data(remaining: size)
                    }
                }

            case .data(let remaining):
                let available = bytes.count - position
                guard available > 0 else { return (position - start, false) }
                let taken = min(available, remaining)
                body.append(contentsOf: bytes[position..<(position + taken)])
                position += taken
                if taken < remaining {
                    state = .data(remaining: remaining - taken)
                    return (position - start, false)
                }
                state = .dataTerminator

            case .dataTerminator:
                let available = bytes.count - position
                guard available > 0 else { return (position - start, false) }
                // RFC 9112 §7.1: chunk-data is followed by CRLF; anything else means the sizes
                // and the data disagree, which is how smuggled requests hide.
                guard bytes[position] == HTTPSyntax.carriageReturn else { throw .missingChunkTerminator }
                guard available > 1 else { return (position - start, false) }
                guard bytes[position + 1] == HTTPSyntax.lineFeed else { throw .missingChunkTerminator }
                position += 2
                state = .sizeLine

            case .trailerLine:
                let budget = limits.maxHeaderBytes - trailerSectionBytes
                switch HTTPSyntax.findLine(in: bytes, from: position, scanned: &scannedLineBytes, limit: budget) {
                case .incomplete:
                    return (position - start, false)
                case .tooLong:
                    throw .headerSectionTooLarge(limit: limits.maxHeaderBytes)
                case .bareLineFeed:
                    throw .bareLineFeed
                case .line(let line, let next):
                    trailerSectionBytes += next - position
                    position = next
                    if line.isEmpty {
                        state = .complete
                        return (position - start, true)
                    }
                    // RFC 9112 §7.1.2: trailer fields follow the header field grammar.
                    let field = try HTTPSyntax.splitFieldLine(bytes, line)
                    guard trailers.count < limits.maxHeaderCount else {
                        throw .tooManyHeaderFields(limit: limits.maxHeaderCount)
                    }
                    trailers.add(name: String(decoding: bytes[field.name], as: UTF8.self), valueBytes: Array(bytes[field.value]))
                }

            case .complete:
                return (position - start, true)
            }
        }
    }

    /// `chunk-size [ chunk-ext ]`: the hexadecimal size, after checking the extensions that
    /// follow it are well-formed (their content is ignored, RFC 9112 §7.1.1).
    private static func chunkSize(_ bytes: [UInt8], _ line: Range<Int>) throws(HTTPParseError) -> Int {
        var index = line.lowerBound
        var size = 0
        while index < line.upperBound, let digit = HTTPSyntax.hexDigitValue(bytes[index]) {
            let (shifted, shiftOverflow) = size.multipliedReportingOverflow(by: 16)
            let (sum, addOverflow) = shifted.addingReportingOverflow(digit)
            if shiftOverflow || addOverflow { throw .invalidChunkSize }
            size = sum
            index += 1
        }
        guard index > line.lowerBound else { throw .invalidChunkSize }
        if index < line.upperBound {
            let next = bytes[index]
            guard next == HTTPSyntax.semicolon || HTTPSyntax.isWhitespace(next) else { throw .invalidChunkSize }
            try validateExtensions(bytes, index..<line.upperBound)
        }
        return size
    }

    /// `chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )`
    private static func validateExtensions(_ bytes: [UInt8], _ range: Range<Int>) throws(HTTPParseError) {
        var index = range.lowerBound
        let end = range.upperBound
        func skipWhitespace() {
            while index < end, HTTPSyntax.isWhitespace(bytes[index]) { index += 1 }
        }
        func skipToken() throws(HTTPParseError) {
            let tokenStart = index
            while index < end, HTTPSyntax.isTokenCharacter(bytes[index]) { index += 1 }
            guard index > tokenStart else { throw .invalidChunkExtension }
        }
        while index < end {
            skipWhitespace()
            guard index < end, bytes[index] == HTTPSyntax.semicolon else { throw .invalidChunkExtension }
            index += 1
            skipWhitespace()
            try skipToken()
            let afterName = index
            skipWhitespace()
            guard index < end, bytes[index] == HTTPSyntax.equalsSign else {
                index = afterName
                continue
            }
            index += 1
            skipWhitespace()
            guard index < end else { throw .invalidChunkExtension }
            if bytes[index] == HTTPSyntax.doubleQuote {
                try skipQuotedString(bytes, &index, end)
            } else {
                try skipToken()
            }
        }
    }

    /// `quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE` (RFC 9110 §5.6.4).
    private static func skipQuotedString(_ bytes: [UInt8], _ index: inout Int, _ end: Int) throws(HTTPParseError) {
        index += 1
        while index < end {
            let byte = bytes[index]
            if byte == HTTPSyntax.doubleQuote {
                index += 1
                return
            }
            if byte == HTTPSyntax.backslash {
                index += 1
                guard index < end, HTTPSyntax.isFieldValueCharacter(bytes[index]) else { throw .invalidChunkExtension }
            } else if !HTTPSyntax.isQuotedTextCharacter(byte) {
                throw .invalidChunkExtension
            }
            index += 1
        }
        throw .invalidChunkExtension
    }
}
