import HTTP1
import Logging

/// API keys and rate limits: who may call a route, and how often.
extension InCTRLService {
    /// Lets `request` through `access`, or throws the 401, 403 or 429 to answer with. With
    /// no keys configured every route is open; the rate limit (when set) applies per key, or
    /// per client address without keys, to every route but the probes.
    func admit(_ request: HTTPRequest, _ access: RouteAccess) throws(APIError) {
        var client = request.remoteAddress.map { "\($0.host)" } ?? "-"
        if let key = try authenticate(request.headers, for: access) {
            RequestLabels.current?.set(keyID: key.id)
            client = "key:" + key.id
        }
        if let rateLimiter, access != .open, let wait = rateLimiter.take(for: client) {
            metrics.recordRejection(.rateLimited)
            throw APIError(.rateLimited, "Too many requests from this client; retry in \(wait) s.", retryAfterSeconds: wait)
        }
    }

    /// The key `headers` carry when `access` needs one (nil when it needs none, or when no
    /// keys are configured), or the 401 or 403 to answer with.
    func authenticate(_ headers: HTTPHeaders, for access: RouteAccess) throws(APIError) -> APIKey? {
        guard let keyring else { return nil }
        switch access {
        case .open:
            return nil
        case .metrics where configuration.metricsPublic:
            return nil
        case .anyKey, .metrics, .scope:
            let key = try authenticate(headers, keyring)
            if case let .scope(scope) = access, !key.allows(scope) {
                throw APIError(
                    .forbidden, "The key '\(key.id)' may not do this: it needs the \(scope.rawValue) scope.",
                    authenticate: "Bearer realm=\"inctrl\", error=\"insufficient_scope\", scope=\"\(scope.rawValue)\"")
            }
            return key
        }
    }

    /// The key of `Authorization: Bearer <key>`, or the 401 to answer with.
    private func authenticate(_ headers: HTTPHeaders, _ keyring: APIKeyring) throws(APIError) -> APIKey {
        guard let authorization = headers["Authorization"] else {
            throw APIError(.unauthorized, "This server needs an API key: send 'Authorization: Bearer <key>'.", authenticate: "Bearer realm=\"inctrl\"")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", let key = keyring.key(for: String(parts[1]).trimmingCharacters(in: .whitespaces)) else {
            throw APIError(
                .unauthorized, "The API key is not valid: send 'Authorization: Bearer <key>' with a key made by 'inctrl keys create'.",
                authenticate: "Bearer realm=\"inctrl\", error=\"invalid_token\"")
        }
        return key
    }

    /// The id of the key the current request came with, for the audit log.
    var currentKeyID: String { RequestLabels.current?.keyID ?? "-" }

    /// Reads the keys file again (on `SIGHUP`); on failure the keys in use stay. Audited.
    public func reloadKeys() {
        guard let keyring else { return }
        do {
            let count = try keyring.reload()
            audit("api_keys.reloaded", ["keys": "\(count)", "file": "\(keyring.path)"])
        } catch {
            logger.error("could not reload the API keys; the keys in use stay", metadata: ["error": "\(error)"])
        }
    }

    /// One structured audit event: who (the key id) did what to which set.
    public func audit(_ event: String, _ details: [String: String] = [:]) {
        var metadata: Logger.Metadata = ["event": "\(event)", "key": "\(currentKeyID)"]
        for (name, value) in details { metadata[name] = "\(value)" }
        auditLogger.notice("audit", metadata: metadata)
    }
}
