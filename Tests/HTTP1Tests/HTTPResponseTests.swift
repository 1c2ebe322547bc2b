import Testing
@testable import HTTP1

@Suite struct HTTPResponseTests {
    let date = Array("Sun, 06 Nov 1994 08:49:37 GMT".utf8)

    func serialize(
        _ response: HTTPResponse, method: HTTPMethod? = .get, version: HTTPVersion = .http1_1, closes: Bool = false
    ) -> String {
        var buffer: [UInt8] = []
        let context = ResponseContext(method: method, version: version, clientAllowsKeepAlive: !closes)
        response.serialize(into: &buffer, context: context, closesConnection: closes, date: date, serverName: "test")
        return String(decoding: buffer, as: UTF8.self)
    }

    @Test func writesStatusLineServerHeadersThenHandlerHeadersAndBody() {
        let response = HTTPResponse(
            status: .created,
            headers: ["Content-Type": "text/plain", "Content-Length": "999", "Connection": "keep-alive", "X-A": "1"],
            body: Array("hello".utf8)
        )
        #expect(serialize(response) == "HTTP/1.1 201 Created\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: test\r\n"
            + "Content-Type: text/plain\r\nX-A: 1\r\nContent-Length: 5\r\n\r\nhello")
    }

    @Test func closingAndHTTP10KeepAliveAreAnnounced() {
        let response = HTTPResponse(body: Array("x".utf8))
        #expect(serialize(response, closes: true).contains("\r\nConnection: close\r\n"))
        #expect(serialize(response, version: .http1_0).contains("\r\nConnection: keep-alive\r\n"))
        #expect(!serialize(response).contains("Connection:"))
    }

    @Test func headResponsesHaveTheLengthButNotTheBody() {
        let withBody = serialize(HTTPResponse(body: Array("twelve bytes".utf8)), method: .head)
        #expect(withBody.hasSuffix("Content-Length: 12\r\n\r\n"))
        let declared = serialize(HTTPResponse(headers: ["Content-Length": "4096"]), method: .head)
        #expect(declared.hasSuffix("Content-Length: 4096\r\n\r\n"))
    }

    @Test func statusesWithoutContentHaveNoLengthOrBody() {
        let text = serialize(HTTPResponse(status: .notModified, body: Array("ignored".utf8)))
        #expect(!text.contains("Content-Length"))
        #expect(text.hasSuffix("\r\n\r\n"))
    }

    @Test func aHandlerMayOverrideDateAndServer() {
        let text = serialize(HTTPResponse(headers: ["Date": "Mon, 01 Jan 2024 00:00:00 GMT", "Server": "mine"]))
        #expect(text.contains("Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"))
        #expect(!text.contains("Sun, 06 Nov 1994"))
        #expect(text.contains("Server: mine\r\n") && !text.contains("Server: test"))
    }

    @Test func errorBodiesAreEscapedJSON() {
        let response = HTTPResponse.error(.badRequest, code: "bad_input", message: "a \"quoted\" \\ line\nbreak\u{1}")
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(String(decoding: response.body, as: UTF8.self)
            == #"{"error":{"code":"bad_input","message":"a \"quoted\" \\ line\nbreak\u0001"}}"#)
    }

    @Test func responsesThatWouldCorruptTheStreamAreRecognised() {
        #expect(HTTPResponse().invalidityReason == nil)
        #expect(HTTPResponse(status: .continue).invalidityReason != nil)
        #expect(HTTPResponse(status: HTTPStatus(code: 42)).invalidityReason != nil)
        #expect(HTTPResponse(headers: ["Bad Name": "v"]).invalidityReason != nil)
        #expect(HTTPResponse(headers: ["X": "a\nb"]).invalidityReason != nil)
        #expect(HTTPResponse(status: HTTPStatus(code: 200, reasonPhrase: "O\r\nK")).invalidityReason != nil)
    }

    @Test func askingToCloseIsReadFromTheConnectionHeader() {
        #expect(HTTPResponse(headers: ["Connection": "Upgrade, Close"]).asksToCloseConnection)
        #expect(!HTTPResponse(headers: ["Connection": "keep-alive"]).asksToCloseConnection)
    }

    @Test(arguments: [(0, "0"), (7, "7"), (10, "10"), (99, "99"), (1234567890, "1234567890"), (Int.max, String(Int.max))])
    func decimalsAreWrittenWithoutStrings(value: Int, expected: String) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 21) { room in
            var cursor = ByteCursor(room)
            cursor.write(UInt8(ascii: "x"))
            cursor.writeDecimal(value)
            #expect(String(decoding: cursor.written, as: UTF8.self) == "x" + expected)
        }
    }
}
