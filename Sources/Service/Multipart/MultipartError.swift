/// Why a `multipart/form-data` request cannot be read. Parts are numbered from 1, in the
/// order they appear in the body.
public enum MultipartError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request's media type is not `multipart/form-data`.
    case notFormData(mediaType: String)
    /// The Content-Type value does not follow `type/subtype *( ";" name=value )`.
    case invalidContentType(reason: String)
    /// The Content-Type has no `boundary` parameter.
    case missingBoundary
    /// The boundary breaks RFC 2046 §5.1.1 (1–70 characters from its set, not ending in a space).
    case invalidBoundary(reason: String)
    /// The body is larger than the parser accepts.
    case bodyTooLarge(limit: Int)
    /// No `--boundary` line opens the first part.
    case missingOpeningDelimiter
    /// The body separates its lines with LF alone; multipart/form-data needs CRLF.
    case bareLineFeeds
    /// The body ends before the close delimiter `--boundary--` (it may have been cut short).
    case missingClosingDelimiter
    /// More parts than the parser accepts.
    case tooManyParts(limit: Int)
    /// A part's header section is larger than the parser accepts.
    case partHeaderTooLarge(part: Int, limit: Int)
    /// A part header line has no colon.
    case headerWithoutColon(part: Int)
    /// A part header line is malformed in another way (the reason says how).
    case invalidPartHeader(part: Int, reason: String)
    /// A header that may appear once appears twice in one part.
    case duplicateHeader(part: Int, name: String)
    /// A part has no Content-Disposition header.
    case missingContentDisposition(part: Int)
    /// A part's Content-Disposition is not `form-data; name="…"` with well-formed parameters.
    case invalidContentDisposition(part: Int, reason: String)
    /// A part's Content-Disposition has no `name` parameter.
    case missingName(part: Int)
    /// A part declares a Content-Transfer-Encoding that would need decoding (RFC 7578 §4.7
    /// deprecates them all).
    case unsupportedTransferEncoding(part: Int, encoding: String)

    public var description: String {
        switch self {
        case let .notFormData(mediaType):
            "expected Content-Type multipart/form-data, not \(mediaType)"
        case let .invalidContentType(reason):
            "the Content-Type header is malformed: \(reason)"
        case .missingBoundary:
            "the Content-Type multipart/form-data needs a boundary parameter, as in 'multipart/form-data; boundary=XyZ'"
        case let .invalidBoundary(reason):
            "the multipart boundary is invalid: \(reason)"
        case let .bodyTooLarge(limit):
            "the multipart body is larger than \(limit) bytes"
        case .missingOpeningDelimiter:
            "the multipart body has no '--' boundary line opening its first part; check the boundary matches the Content-Type"
        case .bareLineFeeds:
            "the multipart body ends its lines with LF alone; multipart/form-data lines end with CRLF (RFC 7578 §4.1)"
        case .missingClosingDelimiter:
            "the multipart body ends without the closing '--boundary--' line; it may have been cut short"
        case let .tooManyParts(limit):
            "the multipart body has more than \(limit) parts"
        case let .partHeaderTooLarge(part, limit):
            "the headers of multipart part \(part) are larger than \(limit) bytes"
        case let .headerWithoutColon(part):
            "a header line of multipart part \(part) has no colon; a blank line must separate a part's headers from its content"
        case let .invalidPartHeader(part, reason):
            "a header of multipart part \(part) is malformed: \(reason)"
        case let .duplicateHeader(part, name):
            "multipart part \(part) has more than one \(name) header"
        case let .missingContentDisposition(part):
            "multipart part \(part) has no Content-Disposition header; each part needs 'Content-Disposition: form-data; name=\"…\"'"
        case let .invalidContentDisposition(part, reason):
            "the Content-Disposition of multipart part \(part) is malformed: \(reason)"
        case let .missingName(part):
            "the Content-Disposition of multipart part \(part) has no name parameter"
        case let .unsupportedTransferEncoding(part, encoding):
            "multipart part \(part) has Content-Transfer-Encoding \(encoding); send the content as binary without one"
        }
    }
}
