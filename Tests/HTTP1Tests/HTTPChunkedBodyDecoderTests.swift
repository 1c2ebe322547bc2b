import Testing
@testable import HTTP1

@Suite struct HTTPChunkedBodyDecoderTests {
    @Test func consumesOnlyWhatItCouldDecodeAndResumes() throws {
        var decoder = HTTPChunkedBodyDecoder(limits: HTTPParserLimits())
        var body: [UInt8] = []
        var trailers = HTTPHeaders()
        var input = Array("5\r\nhel".utf8)
        var result = try decoder.decode(input, from: 0, into: &body, trailers: &trailers)
        #expect(result.consumed == 6)
        #expect(!result.isComplete)
        #expect(body == Array("hel".utf8))
        input = Array("lo\r\n0\r\nA: b\r".utf8)
        result = try decoder.decode(input, from: 0, into: &body, trailers: &trailers)
        // "A: b\r" is an unfinished trailer line: left for the next call.
        #expect(result.consumed == 7)
        input = Array("A: b\r\n\r\nGET".utf8)
        result = try decoder.decode(input, from: 0, into: &body, trailers: &trailers)
        #expect(result.consumed == 8, "bytes after the body belong to the next request")
        #expect(result.isComplete)
        #expect(body == Array("hello".utf8))
        #expect(trailers["a"] == "b")
    }

    @Test func startsAtTheGivenOffset() throws {
        var decoder = HTTPChunkedBodyDecoder(limits: HTTPParserLimits())
        var body: [UInt8] = []
        var trailers = HTTPHeaders()
        let input = Array("junk1\r\nx\r\n0\r\n\r\n".utf8)
        let result = try decoder.decode(input, from: 4, into: &body, trailers: &trailers)
        #expect(result == (consumed: 11, isComplete: true))
        #expect(body == Array("x".utf8))
    }
}
