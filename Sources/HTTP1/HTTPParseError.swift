/// Why a request could not be read. Each case knows the status it is answered with; every
/// one of them ends the connection, because after a framing error the parser can no longer
/// tell where the next request starts (RFC 9112 §6.3, §11.2).
public enum HTTPParseError: Error, Sendable, Equatable {
    /// The request line is longer than the configured limit.
    case requestLineTooLong(limit: Int)
    /// The request line is not `method SP request-target SP HTTP-version`.
    case malformedRequestLine
    /// The request target holds characters a URI cannot, or has the wrong form for the method.
    case invalidRequestTarget
    /// A well-formed version other than HTTP/1.x.
    case unsupportedVersion
    /// A line ended with LF alone instead of CRLF.
    case bareLineFeed
    /// The header section (or trailer section) is larger than the configured limit.
    case headerSectionTooLarge(limit: Int)
    /// More header (or trailer) fields than the configured limit.
    case tooManyHeaderFields(limit: Int)
    /// A field line starts with whitespace (obsolete line folding).
    case obsoleteLineFolding
    /// Whitespace between a field name and its colon.
    case whitespaceBeforeColon
    /// A field line without a colon, with an empty name, or with characters a name cannot hold.
    case malformedHeaderField
    /// A field value holding control characters.
    case invalidHeaderValue
    /// An HTTP/1.1 request without Host.
    case missingHost
    /// More than one Host field line.
    case duplicateHost
    /// A Host value that is not `uri-host [":" port]`.
    case invalidHost
    /// A Content-Length that is not a plain decimal number that fits in 63 bits.
    case invalidContentLength
    /// Content-Length given more than once.
    case duplicateContentLength
    /// Both Content-Length and Transfer-Encoding.
    case contentLengthWithTransferEncoding
    /// Transfer-Encoding in an HTTP/1.0 request.
    case transferEncodingInHTTP10
    /// Transfer-Encoding that is empty, or where chunked is not the single, final coding.
    case invalidTransferEncoding
    /// A transfer coding other than chunked (named here, lower-cased).
    case unsupportedTransferCoding(String)
    /// The body is larger than the configured limit.
    case bodyTooLarge(limit: Int)
    /// A chunk size that is not hexadecimal or does not fit in 63 bits.
    case invalidChunkSize
    /// A chunk extension that does not follow the grammar.
    case invalidChunkExtension
    /// A chunk-size line (with its extensions) longer than the parser accepts.
    case chunkLineTooLong(limit: Int)
    /// Chunk data not followed by CRLF.
    case missingChunkTerminator
    /// An Expect value other than 100-continue.
    case unsupportedExpectation

    /// The status this error is answered with.
    public var status: HTTPStatus {
        switch self {
        case .requestLineTooLong: .uriTooLong
        case .headerSectionTooLarge, .tooManyHeaderFields: .requestHeaderFieldsTooLarge
        case .bodyTooLarge: .contentTooLarge
        case .unsupportedVersion: .httpVersionNotSupported
        case .unsupportedTransferCoding: .notImplemented
        case .unsupportedExpectation: .expectationFailed
        case .malformedRequestLine, .invalidRequestTarget, .bareLineFeed, .obsoleteLineFolding,
             .whitespaceBeforeColon, .malformedHeaderField, .invalidHeaderValue, .missingHost,
             .duplicateHost, .invalidHost, .invalidContentLength, .duplicateContentLength,
             .contentLengthWithTransferEncoding, .transferEncodingInHTTP10,
             .invalidTransferEncoding, .invalidChunkSize, .invalidChunkExtension,
             .chunkLineTooLong, .missingChunkTerminator:
            .badRequest
        }
    }

    /// A stable snake_case identifier for the JSON error body.
    public var code: String {
        switch self {
        case .requestLineTooLong: "request_line_too_long"
        case .malformedRequestLine: "malformed_request_line"
        case .invalidRequestTarget: "invalid_request_target"
        case .unsupportedVersion: "http_version_not_supported"
        case .bareLineFeed: "bare_line_feed"
        case .headerSectionTooLarge: "header_section_too_large"
        case .tooManyHeaderFields: "too_many_header_fields"
        case .obsoleteLineFolding: "obsolete_line_folding"
        case .whitespaceBeforeColon: "whitespace_before_colon"
        case .malformedHeaderField: "malformed_header_field"
        case .invalidHeaderValue: "invalid_header_value"
        case .missingHost: "missing_host"
        case .duplicateHost: "duplicate_host"
        case .invalidHost: "invalid_host"
        case .invalidContentLength: "invalid_content_length"
        case .duplicateContentLength: "duplicate_content_length"
        case .contentLengthWithTransferEncoding: "content_length_with_transfer_encoding"
        case .transferEncodingInHTTP10: "transfer_encoding_in_http10"
        case .invalidTransferEncoding: "invalid_transfer_encoding"
        case .unsupportedTransferCoding: "unsupported_transfer_coding"
        case .bodyTooLarge: "body_too_large"
        case .invalidChunkSize: "invalid_chunk_size"
        case .invalidChunkExtension: "invalid_chunk_extension"
        case .chunkLineTooLong: "chunk_line_too_long"
        case .missingChunkTerminator: "missing_chunk_terminator"
        case .unsupportedExpectation: "unsupported_expectation"
        }
    }

    /// A sentence telling the client what was wrong and what to change.
    public var message: String {
        switch self {
        case .requestLineTooLong(let limit):
            "The request line is longer than \(limit) bytes; shorten the URL or move data into the body."
        case .malformedRequestLine:
            "The request line must be 'METHOD target HTTP/1.1', separated by single spaces."
        case .invalidRequestTarget:
            "The request target must be an absolute path (or a form the method allows) of visible ASCII characters; percent-encode the rest."
        case .unsupportedVersion:
            "Only HTTP/1.0 and HTTP/1.1 are supported."
        case .bareLineFeed:
            "Lines must end with CRLF; a bare LF was found."
        case .headerSectionTooLarge(let limit):
            "The header (or trailer) section is larger than \(limit) bytes."
        case .tooManyHeaderFields(let limit):
            "The request has more than \(limit) header (or trailer) fields."
        case .obsoleteLineFolding:
            "A header line starts with whitespace; line folding is not allowed."
        case .whitespaceBeforeColon:
            "A header field name is followed by whitespace before its colon."
        case .malformedHeaderField:
            "A header line is not 'Name: value' with a valid field name."
        case .invalidHeaderValue:
            "A header value contains control characters."
        case .missingHost:
            "HTTP/1.1 requests must carry exactly one Host header; none was sent."
        case .duplicateHost:
            "The Host header was sent more than once."
        case .invalidHost:
            "The Host header is not a valid host name with an optional port."
        case .invalidContentLength:
            "Content-Length must be a single non-negative decimal number."
        case .duplicateContentLength:
            "Content-Length was sent more than once."
        case .contentLengthWithTransferEncoding:
            "A request may carry Content-Length or Transfer-Encoding, not both."
        case .transferEncodingInHTTP10:
            "Transfer-Encoding is not allowed in HTTP/1.0 requests."
        case .invalidTransferEncoding:
            "Transfer-Encoding must end with chunked, applied once."
        case .unsupportedTransferCoding(let coding):
            "The transfer coding '\(coding)' is not supported; send the body with chunked alone or with Content-Length."
        case .bodyTooLarge(let limit):
            "The request body is larger than \(limit) bytes."
        case .invalidChunkSize:
            "A chunk size is not a hexadecimal number that fits in 63 bits."
        case .invalidChunkExtension:
            "A chunk extension does not follow 'name[=value]' after a semicolon."
        case .chunkLineTooLong(let limit):
            "A chunk-size line with its extensions is longer than \(limit) bytes."
        case .missingChunkTerminator:
            "Chunk data must be followed by CRLF."
        case .unsupportedExpectation:
            "Only the expectation '100-continue' is supported."
        }
    }
}
