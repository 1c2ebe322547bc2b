import Foundation
import Testing
@testable import Service

/// The API's error bodies: stable codes with their statuses, and JSON any parser reads back.
@Suite struct APIErrorTests {
    /// The published table; a change here is a change to the API.
    static let statuses: [String: Int] = [
        "invalid_json": 400, "invalid_threshold": 400, "unauthorized": 401, "forbidden": 403, "rate_limited": 429, "invalid_base64": 400, "invalid_multipart": 400,
        "missing_field": 400, "invalid_field": 400, "unknown_prompt_set": 404, "not_found": 404,
        "method_not_allowed": 405, "too_many_prompt_sets": 409, "body_too_large": 413,
        "too_many_images": 413, "image_too_large": 413, "unsupported_media_type": 415,
        "undecodable_image": 422, "queue_full": 429, "internal_error": 500, "not_ready": 503,
        "shutting_down": 503, "store_unavailable": 503,
    ]

    /// The body's code and message, read back with Foundation's JSON parser.
    func decoded(_ error: APIError) throws -> (code: String, message: String) {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(error.body)) as? [String: Any])
        #expect(object.count == 1)
        let inner = try #require(object["error"] as? [String: Any])
        #expect(inner.count == 2)
        return (try #require(inner["code"] as? String), try #require(inner["message"] as? String))
    }

    @Test func codesAreStableSnakeCaseWithTheirStatuses() {
        let table = Dictionary(uniqueKeysWithValues: APIError.Code.allCases.map { ($0.rawValue, $0.status) })
        #expect(table == Self.statuses)
        for code in APIError.Code.allCases {
            #expect(code.rawValue.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" }, "\(code.rawValue)")
        }
    }

    @Test func bodyHasTheDocumentedShape() throws {
        let error = APIError(.unknownPromptSet, "No prompt set has the id abc.")
        #expect(String(decoding: error.body, as: UTF8.self) == #"{"error":{"code":"unknown_prompt_set","message":"No prompt set has the id abc."}}"#)
        #expect(error.status == 404)
        #expect(error.headers.map(\.name) == ["Content-Type"])
        #expect(error.headers.first?.value == "application/json")
        #expect(error.description == "404 unknown_prompt_set: No prompt set has the id abc.")
    }

    @Test(arguments: [
        "quotes \" and backslash \\ and slash /",
        "line\nbreak\r\nand\ttab",
        "control \u{01}\u{1F}\u{7F} characters \u{08}\u{0C}",
        "non-ASCII: café, 中文, 😀, \u{2028} separator",
        "",
    ])
    func messagesSurviveAJSONRoundTrip(message: String) throws {
        let error = APIError(.invalidField, message)
        let (code, decodedMessage) = try decoded(error)
        #expect(code == "invalid_field")
        #expect(decodedMessage == message)
        #expect(!String(decoding: error.body, as: UTF8.self).unicodeScalars.contains { $0.value < 0x20 }, "raw control characters in \(String(decoding: error.body, as: UTF8.self))")
    }

    @Test func queueFullCarriesRetryAfter() throws {
        let error = APIError.queueFull(retryAfterSeconds: 3)
        #expect(error.code == .queueFull)
        #expect(error.status == 429)
        #expect(error.headers.contains { $0 == (name: "Retry-After", value: "3") })
        #expect(try decoded(error).message.contains("3 s"))
        #expect(APIError(.notReady, "x", retryAfterSeconds: -4).headers.contains { $0 == (name: "Retry-After", value: "0") })
    }

    @Test func methodNotAllowedCarriesAllow() {
        let error = APIError.methodNotAllowed("PUT", allowed: ["GET", "DELETE"])
        #expect(error.status == 405)
        #expect(error.headers.contains { $0 == (name: "Allow", value: "GET, DELETE") })
        #expect(error.message == "PUT is not allowed here; use GET or DELETE.")
    }

    @Test func conveniencesUseTheirCodes() {
        #expect(APIError.notReady().code == .notReady)
        #expect(APIError.notReady().headers.count == 1)
        #expect(APIError.unknownPromptSet("abc").code == .unknownPromptSet)
        #expect(APIError.unknownPromptSet("abc").message.contains("abc"))
        #expect(APIError.missingField("prompt_set").message == "The request needs the field 'prompt_set'.")
        #expect(APIError.internalError.status == 500)
    }

    @Test func multipartErrorsMapToCodes() {
        #expect(APIError(MultipartError.notFormData(mediaType: "image/png")).code == .unsupportedMediaType)
        #expect(APIError(MultipartError.bodyTooLarge(limit: 10)).code == .bodyTooLarge)
        let error = APIError(MultipartError.missingName(part: 2))
        #expect(error.code == .invalidMultipart)
        #expect(error.message == "The Content-Disposition of multipart part 2 has no name parameter.")
        #expect(APIError(MultipartError.missingClosingDelimiter).status == 400)
    }

    @Test func sentencesAreCapitalisedAndEnded() {
        #expect(APIError.sentence("abc") == "Abc.")
        #expect(APIError.sentence("done.") == "Done.")
        #expect(APIError.sentence("") == "")
    }
}
