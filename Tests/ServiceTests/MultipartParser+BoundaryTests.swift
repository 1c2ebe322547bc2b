import Testing
@testable import Service

/// The boundary parameter of a request's Content-Type (RFC 7578 §4.1, RFC 2046 §5.1.1,
/// RFC 9110 §5.6.6).
@Suite struct MultipartBoundaryTests {
    func boundary(_ contentType: String) throws(MultipartError) -> String {
        String(decoding: try MultipartParser.boundary(fromContentType: contentType), as: UTF8.self)
    }

    @Test(arguments: [
        ("multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW", "----WebKitFormBoundary7MA4YWxkTrZu0gW"),
        ("multipart/form-data;boundary=abc", "abc"),
        ("Multipart/Form-Data; BOUNDARY=abc", "abc"),
        ("multipart/form-data ; charset=utf-8 ;boundary=abc ", "abc"),
        ("multipart/form-data; boundary=\"a b:c=d?e/f(g)h,i'j+k_l.m-n\"", "a b:c=d?e/f(g)h,i'j+k_l.m-n"),
        ("multipart/form-data; boundary=\"quoted\\-pair\"", "quoted-pair"),
        ("multipart/form-data; boundary=1", "1"),
        ("multipart/form-data; boundary=" + String(repeating: "x", count: 70), String(repeating: "x", count: 70)),
    ])
    func readsTheBoundary(contentType: String, expected: String) throws {
        #expect(try boundary(contentType) == expected)
    }

    @Test(arguments: [
        ("image/png", MultipartError.notFormData(mediaType: "image/png")),
        ("multipart/mixed; boundary=abc", .notFormData(mediaType: "multipart/mixed")),
        ("; boundary=abc", .notFormData(mediaType: "an empty media type")),
        ("multipart/form-data", .missingBoundary),
        ("multipart/form-data; charset=utf-8", .missingBoundary),
        ("multipart/form-data; boundary=a; boundary=b", .invalidContentType(reason: "parameter 'boundary' appears more than once")),
        ("multipart/form-data; boundary = abc", .invalidContentType(reason: "parameter 'boundary' needs '=' and a value, with no spaces around '='")),
        ("multipart/form-data; boundary=", .invalidContentType(reason: "parameter 'boundary' has no value; quote it if it holds spaces or separators")),
        ("multipart/form-data; boundary=a/b", .invalidContentType(reason: "expected ';' before a parameter")),
        ("multipart/form-data; boundary=\"abc", .invalidContentType(reason: "parameter 'boundary' has a quoted value without its closing quote")),
        ("multipart/form-data; =abc", .invalidContentType(reason: "a parameter name must be a token, not start with '='")),
        ("multipart/form-data; boundary=abc\r\n", .invalidContentType(reason: "it holds control characters")),
        ("multipart/form-data; boundary=\"\"", .invalidBoundary(reason: "it must be 1 to 70 characters long, not 0")),
        ("multipart/form-data; boundary=" + String(repeating: "x", count: 71), .invalidBoundary(reason: "it must be 1 to 70 characters long, not 71")),
        ("multipart/form-data; boundary=\"abc \"", .invalidBoundary(reason: "it must not end with a space")),
        ("multipart/form-data; boundary=a@b", .invalidContentType(reason: "expected ';' before a parameter")),
        ("multipart/form-data; boundary=\"a@b\"", .invalidBoundary(reason: "it holds '@'; only letters, digits, spaces and '()+_,-./:=? are allowed")),
        ("multipart/form-data; boundary=a!b", .invalidBoundary(reason: "it holds '!'; only letters, digits, spaces and '()+_,-./:=? are allowed")),
        ("multipart/form-data; boundary=\"a\\\"b\"", .invalidBoundary(reason: "it holds '\"'; only letters, digits, spaces and '()+_,-./:=? are allowed")),
        ("multipart/form-data; boundary=\"caf\u{e9}\"", .invalidBoundary(reason: "it holds byte 0xC3; only letters, digits, spaces and '()+_,-./:=? are allowed")),
    ])
    func refusesBadContentTypes(contentType: String, error: MultipartError) {
        #expect(throws: error) { try boundary(contentType) }
    }

    @Test func parseChecksABoundaryGivenDirectly() {
        #expect(throws: MultipartError.invalidBoundary(reason: "it must be 1 to 70 characters long, not 0")) {
            try MultipartParser().parse(Array("--\r\n".utf8), boundary: [])
        }
    }
}
