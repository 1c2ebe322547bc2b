import HTTP1

/// `GET /healthz`, `GET /readyz`, `GET /metrics` and `GET /openapi.yaml`: the routes for
/// operators and tools.
extension InCTRLService {
    /// The body of `GET /healthz`, built once: the probe is hit often and must stay cheap.
    static let healthyBody = try! APIJSON.encode(HealthBody(status: "ok"))

    /// 200 once the model and the prompt sets are loaded; 503 before, again once the server
    /// is shutting down, and while the store cannot serve (`store_unavailable`, answered
    /// within a few seconds even while a database hangs), so a load balancer stops sending
    /// work here.
    func readiness() async throws -> HTTPResponse {
        try refuseIfShuttingDown()
        guard await registry.isReady, let model = try? await registry.model() else {
            metrics.recordRejection(.notReady)
            throw APIError.notReady(retryAfterSeconds: 1)
        }
        // A database that went away makes the replica unready until it is back.
        if let failure = await storeAvailability.failure() {
            throw APIError(.storeUnavailable, "The prompt-set store cannot serve: \(failure)", retryAfterSeconds: 1)
        }
        return try APIJSON.response(ReadinessBody(
            status: "ready", model: model.info, promptSets: await registry.count, authentication: keyring == nil ? "none" : "api_keys",
            warning: exposureWarning))
    }

    func metricsResponse() async -> HTTPResponse {
        await refreshGauges()
        return HTTPResponse(status: .ok, contentType: ServiceMetrics.contentType, body: metrics.render())
    }

    func openAPIDocument() -> HTTPResponse {
        HTTPResponse(status: .ok, headers: ["Content-Type": "application/yaml"], body: OpenAPIDocument.yaml)
    }
}
