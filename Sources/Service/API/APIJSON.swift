import Foundation
import HTTP1

/// The one way JSON enters and leaves the API: request bodies decode through `Codable`
/// types with ``decode(_:from:)``, whose failures become the API's error codes, and every
/// response body, errors included, encodes through ``encode(_:)``: keys sorted, slashes
/// unescaped, dates as ISO 8601 in UTC. `inctrl score` prints its lines through it too.
public enum APIJSON {
    /// The configured encoder; a fresh one per call, as `JSONEncoder` is not thread-safe.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// `value` as JSON bytes.
    public static func encode(_ value: some Encodable) throws -> [UInt8] {
        [UInt8](try encoder().encode(value))
    }

    /// A JSON response with `value` as its body.
    static func response(_ value: some Encodable, status: HTTPStatus = .ok) throws -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: try encode(value))
    }

    /// The request body decoded as `Body`, or the API error that says what is wrong with it:
    /// `invalid_json` for text that is not JSON or not an object, `invalid_field` for a
    /// field of the wrong type (naming it, `images[2]` for an array element), and
    /// `missing_field` for a required field that is absent. Unknown fields are ignored, and
    /// `null` reads as absent.
    static func decode<Body: Decodable>(_ type: Body.Type, from body: [UInt8]) throws(APIError) -> Body {
        do {
            return try JSONDecoder().decode(Body.self, from: Data(body))
        } catch let error as DecodingError {
            throw apiError(error)
        } catch {
            throw APIError(.invalidJSON, "The body is not valid JSON.")
        }
    }

    private static func apiError(_ error: DecodingError) -> APIError {
        switch error {
        case let .typeMismatch(expected, context), let .valueNotFound(expected, context):
            guard !context.codingPath.isEmpty else { return APIError(.invalidJSON, "The body must be a JSON object.") }
            return APIError(.invalidField, "The field '\(fieldName(context.codingPath))' must be \(description(of: expected)).")
        case let .keyNotFound(key, context):
            return .missingField(fieldName(context.codingPath + [key]))
        case .dataCorrupted:
            return APIError(.invalidJSON, "The body is not valid JSON.")
        @unknown default:
            return APIError(.invalidJSON, "The body is not valid JSON.")
        }
    }

    /// `images[2]`, `class_name`: a coding path as a client would write it.
    private static func fieldName(_ path: [any CodingKey]) -> String {
        path.reduce(into: "") { name, key in
            if let index = key.intValue { name += "[\(index)]" } else { name += name.isEmpty ? key.stringValue : "." + key.stringValue }
        }
    }

    private static func description(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Array<Any>.Type, is [String].Type: "an array"
        case is Double.Type, is Float.Type, is Int.Type: "a number"
        case is Bool.Type: "true or false"
        default: "a value of another type"
        }
    }
}
