extension MultipartParser {
    /// The boundary named by a request's Content-Type, which must be `multipart/form-data`
    /// (RFC 7578 §4.1, RFC 9110 §8.3.1). The boundary may be a token or a quoted string
    /// (`boundary="a:b"`); either way it must be 1–70 characters of RFC 2046's set and not
    /// end in a space (RFC 2046 §5.1.1).
    public static func boundary(fromContentType contentType: String) throws(MultipartError) -> [UInt8] {
        let bytes = Array(contentType.utf8)
        guard bytes.allSatisfy(HeaderSyntax.isFieldValueByte) else {
            throw .invalidContentType(reason: "it holds control characters")
        }
        let value: ParameterizedHeaderValue
        do {
            value = try ParameterizedHeaderValue.parse(bytes[...])
        } catch {
            throw .invalidContentType(reason: error.reason)
        }
        // RFC 9110 §8.3.1: type and subtype are case-insensitive.
        let mediaType = String(decoding: value.leading, as: UTF8.self)
        guard mediaType.lowercased() == "multipart/form-data" else {
            throw .notFormData(mediaType: mediaType.isEmpty ? "an empty media type" : mediaType)
        }
        let boundaryText: String?
        do {
            boundaryText = try value.value(of: "boundary")
        } catch {
            throw .invalidContentType(reason: error.reason)
        }
        guard let boundaryText else { throw .missingBoundary }
        let boundary = Array(boundaryText.utf8)
        try checkBoundary(boundary)
        return boundary
    }

    /// Checks `boundary` against RFC 2046 §5.1.1:
    /// `boundary := 0*69<bchars> bcharsnospace`.
    static func checkBoundary(_ boundary: [UInt8]) throws(MultipartError) {
        guard (1...70).contains(boundary.count) else {
            throw .invalidBoundary(reason: "it must be 1 to 70 characters long, not \(boundary.count)")
        }
        guard let bad = boundary.first(where: { !HeaderSyntax.boundaryBytes[Int($0)] }) else {
            guard boundary.last != UInt8(ascii: " ") else { throw .invalidBoundary(reason: "it must not end with a space") }
            return
        }
        let shown = bad < 0x80 ? "'\(Character(UnicodeScalar(bad)))'" : "byte 0x" + String(bad, radix: 16, uppercase: true)
        throw .invalidBoundary(reason: "it holds \(shown); only letters, digits, spaces and '()+_,-./:=? are allowed")
    }
}
