import Testing
@testable import HTTP1

@Suite struct HTTPRequestTests {
    @Test func queryItemsArePercentDecoded() {
        let request = HTTPRequest(method: .get, target: "/score?prompt_set=a%2Fb&name=two+words&flag&broken=%zz&=empty")
        #expect(request.path == "/score")
        #expect(request.query == "prompt_set=a%2Fb&name=two+words&flag&broken=%zz&=empty")
        #expect(request.queryItems.map(\.name) == ["prompt_set", "name", "flag", ""])
        #expect(request.queryValue("prompt_set") == "a/b")
        #expect(request.queryValue("name") == "two words")
        #expect(request.queryValue("flag") == "")
        #expect(request.queryValue("broken") == nil)
    }

    @Test func aTargetWithoutQueryHasNone() {
        let request = HTTPRequest(method: .get, target: "/healthz")
        #expect(request.query == nil)
        #expect(request.queryItems.isEmpty)
    }
}
