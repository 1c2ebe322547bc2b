/// One part of a `multipart/form-data` body (RFC 7578 §4): a named form field or file.
public struct MultipartPart: Sendable, Equatable {
    /// The form field's name (`Content-Disposition: form-data; name="…"`).
    public var name: String
    /// The file name the client gave, if the part is a file (`filename="…"`, or a decodable
    /// `filename*=UTF-8''…`). As sent: it may hold any path, and is never used as one here.
    public var filename: String?
    /// The part's `Content-Type` value as sent, if any (RFC 7578 §4.4 defaults it to
    /// text/plain for fields and leaves files to the client).
    public var contentType: String?
    /// The part's content: a slice of the body it was parsed from, so no bytes are copied.
    /// Its indices are the body's, not zero-based.
    public var body: ArraySlice<UInt8>

    /// Creates a part.
    public init(name: String, filename: String? = nil, contentType: String? = nil, body: ArraySlice<UInt8>) {
        self.name = name
        self.filename = filename
        self.contentType = contentType
        self.body = body
    }

    /// The `type/subtype` of `contentType`, lower-cased and without parameters
    /// (`image/png` for `Image/PNG; q=1`), or nil when the part has no Content-Type.
    public var mediaType: String? {
        guard let contentType else { return nil }
        var essence = contentType.prefix { $0 != ";" }
        while essence.first == " " || essence.first == "\t" { essence.removeFirst() }
        while essence.last == " " || essence.last == "\t" { essence.removeLast() }
        return essence.lowercased()
    }
}
