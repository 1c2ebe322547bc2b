import Dispatch
import Foundation
import HTTP1
import InCTRL
import Logging
import Synchronization

/// The HTTP surface: the route table, request ids, the access log and request metrics.
extension InCTRLService {
    /// The server handler: every route, wrapped so each response carries `X-Request-ID`,
    /// is counted in the metrics and gets one access-log line.
    public var handler: HTTPHandler {
        let routes = routing().router
        return { [self] request in await self.instrumented(request, routes) }
    }

    /// The server's immediate handler: `GET /healthz`, answered on the event loop without a
    /// task, with the same response, request id, metrics and access-log line as through
    /// `handler` (its route needs no key, no rate limit and no waiting). Every other request
    /// goes to `handler`.
    public var immediateHandler: HTTPImmediateHandler {
        // Looked up once: the route's metrics slot and the answer, which only gains its id.
        let route = metrics.route("/healthz")
        let health = Self.healthResponse
        return { [self] request in
            guard request.method == .get, request.path == "/healthz" else { return nil }
            let started = DispatchTime.now()
            metrics.requestStarted()
            return finish(
                request, Self.requestID(from: request), health, pattern: "/healthz", keyID: nil, route: route, started: started)
        }
    }

    /// `GET /healthz`'s answer.
    static var healthResponse: HTTPResponse {
        HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"], body: healthyBody)
    }

    /// The head check for the server: from a request's head alone, before its body is read,
    /// the router's 404 and 405, the API key's 401 and 403, a 404 for a prompt set that is
    /// not registered (in the path, or in `/score`'s `prompt_set` parameter), and a query's
    /// 429 while the model queue is full.
    public var headCheck: HTTPHeadCheck {
        let (router, access) = routing()
        return { [self] head in
            // One routing decision for the common case: a route matches.
            guard let route = router.match(method: head.method, path: head.path) else {
                return router.response(toMethod: head.method, path: head.path)
            }
            // A refusal is counted like any answer (no access-log line: under a flood,
            // refusing must stay cheap).
            func refuse(_ error: APIError) -> HTTPResponse {
                metrics.recordRequest(route: route.pattern, method: head.method.rawValue, status: error.status, duration: .zero)
                return error.response
            }
            do throws(APIError) {
                _ = try authenticate(head.headers, for: access[RouteKey(method: route.method, pattern: route.pattern)] ?? .open)
                let named = route.parameters["id"] ?? (route.pattern.hasPrefix("/score") ? head.queryValue("prompt_set") : nil)
                if let named, registry.isKnown(PromptSetID(named)) == false {
                    throw APIError.unknownPromptSet(named.count <= 64 ? named : String(named.prefix(64)) + "…")
                }
                // A full queue refuses a query before its image is read: under a flood,
                // rejection costs a head, not a body.
                if route.pattern.hasPrefix("/score"), let model = registry.servingModel, !decodingQueries.haveRoom(for: 1, in: model) {
                    metrics.recordRejection(.queueFull)
                    throw APIError.queueFull(retryAfterSeconds: configuration.retryAfterSeconds)
                }
                return nil
            } catch {
                return refuse(error)
            }
        }
    }

    /// A route's method and pattern.
    private struct RouteKey: Hashable {
        var method: HTTPMethod
        var pattern: String
    }

    /// Every route: the router, and who may call each.
    private func routing() -> (router: HTTPRouter, access: [RouteKey: RouteAccess]) {
        var router = HTTPRouter()
        var access: [RouteKey: RouteAccess] = [:]
        func route(
            _ method: HTTPMethod, _ pattern: String, _ allowed: RouteAccess,
            _ body: @escaping @Sendable (InCTRLService, HTTPRequest) async throws -> HTTPResponse
        ) {
            self.route(&router, method, pattern, allowed, body)
            access[RouteKey(method: method, pattern: pattern)] = allowed
        }
        route(.get, "/", .open) { service, request in service.console(request) }
        route(.get, "/healthz", .open) { _, _ in Self.healthResponse }
        route(.get, "/readyz", .open) { service, _ in try await service.readiness() }
        route(.get, "/metrics", .metrics) { service, _ in await service.metricsResponse() }
        route(.get, "/openapi.yaml", .anyKey) { service, _ in service.openAPIDocument() }
        route(.post, "/prompts", .scope(.admin)) { service, request in try await service.registerPromptSet(request) }
        route(.get, "/prompts", .scope(.score)) { service, _ in try await service.listPromptSets() }
        route(.get, "/prompts/{id}", .scope(.score)) { service, request in try await service.describePromptSet(request) }
        route(.delete, "/prompts/{id}", .scope(.admin)) { service, request in try await service.deletePromptSet(request) }
        route(.post, "/prompts/{id}/calibration", .scope(.admin)) { service, request in try await service.calibratePromptSet(request) }
        route(.put, "/prompts/{id}/threshold", .scope(.admin)) { service, request in try await service.setThreshold(request) }
        route(.delete, "/prompts/{id}/threshold", .scope(.admin)) { service, request in try await service.clearThreshold(request) }
        route(.post, "/score", .scope(.score)) { service, request in try await service.score(request) }
        route(.post, "/score/batch", .scope(.score)) { service, request in try await service.scoreBatch(request) }
        return (router, access)
    }

    /// Registers `body` for `method` and `pattern`, callable as `access` allows; it labels
    /// the request with its pattern (and key id), checks the key and the client's rate, and
    /// turns a thrown error into the API's error response.
    private func route(
        _ router: inout HTTPRouter, _ method: HTTPMethod, _ pattern: String, _ access: RouteAccess,
        _ body: @escaping @Sendable (InCTRLService, HTTPRequest) async throws -> HTTPResponse
    ) {
        router.add(method, pattern) { [self] request in
            RequestLabels.current?.set(pattern: pattern)
            do {
                try admit(request, access)
                // Handlers start on the event loop that read the request; a body may need
                // megabytes of multipart, JSON and base64 work, so leave the loop first.
                if !request.body.isEmpty { await Task.yield() }
                return try await body(self, request)
            } catch {
                return apiError(error).response
            }
        }
    }

    private func instrumented(_ request: HTTPRequest, _ router: HTTPRouter) async -> HTTPResponse {
        let started = DispatchTime.now()
        let (request, requestID) = Self.identified(request)
        metrics.requestStarted()
        let label = RequestLabels()
        let response = await RequestLabels.$current.withValue(label) { await router.respond(to: request) }
        let pattern = label.pattern
        return finish(
            request, requestID, response, pattern: pattern, keyID: label.keyID, route: metrics.route(pattern), started: started)
    }

    /// `request` carrying its request id (see ``requestID(from:)``), and the id.
    private static func identified(_ request: HTTPRequest) -> (HTTPRequest, String) {
        var request = request
        let requestID = requestID(from: request)
        request.requestID = requestID
        return (request, requestID)
    }

    /// The end of every request, however it was answered: `response` with the request's id,
    /// counted in the metrics (under `route`, the metrics' slot for `pattern`) and written to
    /// the access log.
    private func finish(
        _ request: borrowing HTTPRequest, _ requestID: String, _ response: HTTPResponse, pattern: String?, keyID: String?,
        route: ServiceMetrics.Route, started: DispatchTime
    ) -> HTTPResponse {
        var response = response
        metrics.requestFinished()
        response.headers.set(name: "X-Request-ID", value: requestID)
        let duration = Duration.since(started)
        metrics.recordRequest(route: route, method: request.method.rawValue, status: response.status.code, duration: duration)
        accessLog.record(AccessLog.Entry(
            requestID: requestID, method: request.method.rawValue, path: request.path,
            route: pattern ?? ServiceMetrics.unmatchedRoute, status: response.status.code,
            milliseconds: (duration.inSeconds * 10_000).rounded() / 10, bytesIn: request.body.count,
            bytesOut: response.body.count, remote: request.remoteAddress?.description ?? "-", keyID: keyID ?? "-"))
        return response
    }

    /// The client's `X-Request-ID` when it is 1–128 visible ASCII characters, else a new one.
    static func requestID(from request: HTTPRequest) -> String {
        if let given = request.headers["X-Request-ID"], (1...128).contains(given.utf8.count),
           given.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) {
            return given
        }
        return HTTPRequestID.fresh()
    }
}
