import Foundation
import HTTP1

/// Reading request bodies: the media type, base64 fields and multipart forms (JSON bodies
/// decode through ``APIJSON/decode(_:from:)``).
enum RequestBody {
    /// The request's media type, lower-cased, without parameters (`multipart/form-data`).
    static func mediaType(of request: HTTPRequest) -> String? {
        guard let value = request.headers["Content-Type"] else { return nil }
        let type = value.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        return type?.isEmpty == false ? type : nil
    }

    /// Standard base64 (RFC 4648 §4, padding optional, whitespace refused) to bytes.
    static func base64(_ text: String, field: String) throws(APIError) -> [UInt8] {
        var padded = text
        let remainder = padded.utf8.count % 4
        if remainder == 2 || remainder == 3 { padded += String(repeating: "=", count: 4 - remainder) }
        guard let data = Data(base64Encoded: padded) else {
            throw APIError(.invalidBase64, "The field '\(field)' is not valid base64.")
        }
        return [UInt8](data)
    }

    /// A JSON list of base64 images, each named `images[i]` in an error.
    static func base64Images(_ encoded: [String]) throws(APIError) -> [[UInt8]] {
        try encoded.enumerated().map { index, text throws(APIError) in try base64(text, field: "images[\(index)]") }
    }

    /// A multipart/form-data body's parts, under the service's limits.
    static func multipart(_ request: HTTPRequest, maxBodyBytes: Int) throws(APIError) -> [MultipartPart] {
        let parser = MultipartParser(limits: .init(maxParts: 128, maxPartHeaderBytes: 8192, maxBodyBytes: maxBodyBytes))
        do {
            return try parser.parse(request.body, contentType: request.headers["Content-Type"] ?? "")
        } catch {
            throw APIError(error)
        }
    }

    /// A text form field's value as UTF-8.
    static func text(_ part: MultipartPart) throws(APIError) -> String {
        guard let text = String(validating: part.body, as: UTF8.self) else {
            throw APIError(.invalidField, "The form field '\(part.name)' is not UTF-8 text.")
        }
        return text
    }
}
