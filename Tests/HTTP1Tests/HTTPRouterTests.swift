import Testing
@testable import HTTP1

@Suite struct HTTPRouterTests {
    func router() -> HTTPRouter {
        var router = HTTPRouter()
        router.get("/prompts") { _ in HTTPResponse(contentType: "text/plain", body: "list") }
        router.post("/prompts") { _ in HTTPResponse(status: .created) }
        router.get("/prompts/{id}") { request in
            HTTPResponse(contentType: "text/plain", body: "get \(request.pathParameters["id"] ?? "?")")
        }
        router.delete("/prompts/{id}") { _ in HTTPResponse(status: .noContent) }
        router.get("/prompts/{id}/images/{index}") { request in
            HTTPResponse(contentType: "text/plain", body: "\(request.pathParameters["id"]!)#\(request.pathParameters["index"]!)")
        }
        router.get("/prompts/special") { _ in HTTPResponse(contentType: "text/plain", body: "never: the pattern above wins") }
        return router
    }

    func respond(_ method: HTTPMethod, _ target: String) async -> HTTPResponse {
        await router().respond(to: HTTPRequest(method: method, target: target))
    }

    @Test func routesByMethodAndPathWithDecodedParameters() async {
        #expect(await respond(.get, "/prompts").body == Array("list".utf8))
        #expect(await respond(.post, "/prompts").status == .created)
        #expect(await respond(.get, "/prompts/a%20b?verbose=1").body == Array("get a b".utf8))
        #expect(await respond(.get, "/prompts/x/images/3").body == Array("x#3".utf8))
        #expect(await respond(.get, "/prompts/special").body == Array("get special".utf8))
    }

    /// Paths equal to a pattern without parameters are looked up rather than matched segment
    /// by segment; the answers must be the walk's: the same route for a percent-encoded
    /// spelling, and a parameter route added later still counts for 405 and OPTIONS.
    @Test func literalPathsAnswerAsTheWalkDoes() async {
        var router = HTTPRouter()
        router.put("/items/special") { _ in HTTPResponse(contentType: "text/plain", body: "put special") }
        router.get("/items/{id}") { request in HTTPResponse(contentType: "text/plain", body: "get \(request.pathParameters["id"] ?? "?")") }
        router.get("/items") { _ in HTTPResponse(contentType: "text/plain", body: "list") }
        func respond(_ method: HTTPMethod, _ target: String) async -> HTTPResponse {
            await router.respond(to: HTTPRequest(method: method, target: target))
        }
        #expect(await respond(.get, "/items/special").body == Array("get special".utf8))
        #expect(await respond(.get, "/item%73/speci%61l").body == Array("get special".utf8))
        #expect(await respond(.put, "/items/special").body == Array("put special".utf8))
        #expect(await respond(.get, "/item%73").body == Array("list".utf8))
        #expect(await respond(.options, "/items/special").headers["Allow"] == "GET, HEAD, PUT, OPTIONS")
        let refused = await respond(.delete, "/items/special")
        #expect(refused.status == .methodNotAllowed)
        #expect(refused.headers["Allow"] == "GET, HEAD, PUT, OPTIONS")
        #expect(router.match(method: .head, path: "/items/special")?.pattern == "/items/{id}")
        #expect(router.match(method: .head, path: "/items/special")?.parameters == ["id": "special"])
    }

    @Test func unknownPathsAre404() async {
        let response = await respond(.get, "/nothing")
        #expect(response.status == .notFound)
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(await respond(.get, "/prompts/").status == .notFound, "an empty segment matches no parameter")
        #expect(await respond(.get, "/prompts/x/").status == .notFound)
    }

    @Test func wrongMethodsAre405WithTheAllowedOnes() async {
        let response = await respond(.put, "/prompts/abc")
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers["Allow"] == "GET, HEAD, DELETE, OPTIONS")
        #expect(String(decoding: response.body, as: UTF8.self).contains(#""code":"method_not_allowed""#))
        #expect(await respond(.delete, "/prompts").headers["Allow"] == "GET, HEAD, POST, OPTIONS")
    }

    @Test func optionsAndHeadAreAnsweredFromTheRoutes() async {
        let options = await respond(.options, "/prompts/abc")
        #expect(options.status == .noContent)
        #expect(options.headers["Allow"] == "GET, HEAD, DELETE, OPTIONS")
        let head = await respond(.head, "/prompts/abc")
        #expect(head.status == .ok)
        #expect(head.body == Array("get abc".utf8), "the server, not the router, drops the body")
    }

    /// What the router answers without a handler, it answers from the method and path alone.
    @Test func answersFromTheHeadWhatNeedsNoHandler() {
        let router = router()
        #expect(router.response(toMethod: .post, path: "/prompts") == nil)
        #expect(router.response(toMethod: .head, path: "/prompts/abc") == nil)
        #expect(router.response(toMethod: .post, path: "/nothing")?.status == .notFound)
        let refused = router.response(toMethod: .put, path: "/prompts/abc")
        #expect(refused?.status == .methodNotAllowed)
        #expect(refused?.headers["Allow"] == "GET, HEAD, DELETE, OPTIONS")
        #expect(router.response(toMethod: .options, path: "/prompts")?.status == .noContent)
        #expect(router.response(toMethod: .post, path: "/prompts/%zz")?.status == .badRequest)
    }

    @Test func brokenPercentEncodingIs400() async {
        #expect(await respond(.get, "/prompts/%zz").status == .badRequest)
        #expect(await respond(.get, "/prompts/%C3").status == .badRequest, "not UTF-8")
    }
}
