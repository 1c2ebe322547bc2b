import HTTP1

/// `GET /`: the web console, a page that uses the public API like any other client.
extension InCTRLService {
    /// The console page, or `304 Not Modified` when the client's `If-None-Match` names it.
    /// Browsers must revalidate (`no-cache`), so a new binary's page is seen at once.
    func console(_ request: HTTPRequest) -> HTTPResponse {
        let page = ConsolePage.embedded
        var headers: HTTPHeaders = [
            "ETag": page.etag,
            "Cache-Control": "no-cache",
            "Content-Security-Policy": page.contentSecurityPolicy,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        ]
        let conditions = request.headers.values(for: "If-None-Match")
        if page.isCurrent(ifNoneMatch: conditions.isEmpty ? nil : conditions.joined(separator: ",")) {
            return HTTPResponse(status: .notModified, headers: headers)
        }
        headers.set(name: "Content-Type", value: "text/html; charset=utf-8")
        return HTTPResponse(status: .ok, headers: headers, body: page.bytes)
    }
}
