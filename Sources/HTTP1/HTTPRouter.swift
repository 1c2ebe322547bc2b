/// Maps method and path pattern to a handler. Patterns are paths whose `{name}` segments
/// match any one segment (`/prompts/{id}`); matched values land, percent-decoded, in
/// `HTTPRequest.pathParameters`.
///
/// The router answers what routing alone decides: 404 when no pattern matches the path,
/// 405 with `Allow` when patterns match but not for this method (RFC 9110 §15.5.6),
/// OPTIONS with `Allow`, and HEAD through the GET handler (the server drops the body).
/// Routing needs only the method and the path, so `headCheck` gives those answers from the
/// head, before a body that would be thrown away is read.
public struct HTTPRouter: Sendable {
    /// What routing decides for a method and path: a route to run, or an answer of its own.
    private enum Resolution {
        case route(Route, parameters: [String: String])
        case answer(HTTPResponse)
    }

    private enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    private struct Route: Sendable {
        let method: HTTPMethod
        let pattern: String
        let segments: [Segment]
        let handler: HTTPHandler
    }

    private var routes: [Route] = []

    /// For each pattern without parameters, every route that matches that path, in route
    /// order, with its parameters: `resolve` looks these up rather than splitting the path
    /// and walking every route, since most requests go to such paths (`/healthz`, `/score`).
    /// Filled in by `add` with the same matching the walk does, so both give the same answer.
    private var literalPaths: [String: [(route: Route, parameters: [String: String])]] = [:]

    /// A router with no routes (everything is 404).
    public init() {}

    /// Routes `method` on paths matching `pattern` to `handler`. A later route for the same
    /// method and pattern never wins over an earlier one.
    public mutating func add(_ method: HTTPMethod, _ pattern: String, handler: @escaping HTTPHandler) {
        let route = Route(method: method, pattern: pattern, segments: Self.segments(ofPattern: pattern), handler: handler)
        routes.append(route)
        // The literal paths this route matches get it as a candidate; a new literal path
        // gets every route so far that matches it.
        for (path, candidates) in literalPaths {
            guard let segments = Self.segments(ofPath: path), let parameters = Self.match(route.segments, segments) else { continue }
            literalPaths[path] = candidates + [(route, parameters)]
        }
        let isLiteral = route.segments.allSatisfy { if case .literal = $0 { true } else { false } }
        if isLiteral, literalPaths[pattern] == nil, !pattern.utf8.contains(UInt8(ascii: "%")),
           let segments = Self.segments(ofPath: pattern) {
            literalPaths[pattern] = routes.compactMap { route in
                Self.match(route.segments, segments).map { (route, $0) }
            }
        }
    }

    /// Routes GET (and so HEAD).
    public mutating func get(_ pattern: String, handler: @escaping HTTPHandler) {
        add(.get, pattern, handler: handler)
    }

    /// Routes POST.
    public mutating func post(_ pattern: String, handler: @escaping HTTPHandler) {
        add(.post, pattern, handler: handler)
    }

    /// Routes PUT.
    public mutating func put(_ pattern: String, handler: @escaping HTTPHandler) {
        add(.put, pattern, handler: handler)
    }

    /// Routes DELETE.
    public mutating func delete(_ pattern: String, handler: @escaping HTTPHandler) {
        add(.delete, pattern, handler: handler)
    }

    /// Routes PATCH.
    public mutating func patch(_ pattern: String, handler: @escaping HTTPHandler) {
        add(.patch, pattern, handler: handler)
    }

    /// The router as a server handler.
    public var handler: HTTPHandler {
        { [self] request in await self.respond(to: request) }
    }

    /// The router as a head check for `HTTPServer`: refuses, before the body is read, what
    /// `respond(to:)` would answer without running a handler.
    public var headCheck: HTTPHeadCheck {
        { [self] head in self.response(toMethod: head.method, path: head.path) }
    }

    /// The answer routing alone gives `method` on `path` (404, 405, OPTIONS, or 400 for a
    /// broken percent-encoding), or nil when a route's handler would answer.
    public func response(toMethod method: HTTPMethod, path: String) -> HTTPResponse? {
        switch resolve(method: method, path: path) {
        case .route: nil
        case .answer(let response): response
        }
    }

    /// The route that would run for `method` on `path` (HEAD runs GET's): its method and
    /// pattern, and the path's parameters; nil when routing answers by itself.
    public func match(method: HTTPMethod, path: String) -> (method: HTTPMethod, pattern: String, parameters: [String: String])? {
        switch resolve(method: method, path: path) {
        case let .route(route, parameters): (route.method, route.pattern, parameters)
        case .answer: nil
        }
    }

    /// Routes one request.
    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        switch resolve(method: request.method, path: request.path) {
        case .route(let route, let parameters):
            var request = request
            request.pathParameters = parameters
            return await route.handler(request)
        case .answer(let response):
            return response
        }
    }

    private func resolve(method: HTTPMethod, path: String) -> Resolution {
        let candidates: [(route: Route, parameters: [String: String])]
        if let known = literalPaths[path] {
            candidates = known
        } else {
            guard let pathSegments = Self.segments(ofPath: path) else {
                return .answer(.error(.badRequest, code: "invalid_path", message: "The path contains a broken percent-encoding."))
            }
            candidates = routes.compactMap { route in Self.match(route.segments, pathSegments).map { (route, $0) } }
        }
        var allowed: Set<HTTPMethod> = []
        var getMatch: (Route, [String: String])?
        for (route, parameters) in candidates {
            if route.method == method {
                return .route(route, parameters: parameters)
            }
            if route.method == .get, getMatch == nil { getMatch = (route, parameters) }
            allowed.insert(route.method)
        }
        // RFC 9110 §9.3.2: HEAD is GET without the content.
        if method == .head, let (route, parameters) = getMatch {
            return .route(route, parameters: parameters)
        }
        guard !allowed.isEmpty else {
            return .answer(.error(.notFound, code: "not_found", message: "Nothing is served at \(path)."))
        }
        if allowed.contains(.get) { allowed.insert(.head) }
        allowed.insert(.options)
        let allowHeader = Self.canonicalOrder.filter(allowed.contains).map(\.rawValue).joined(separator: ", ")
        if method == .options {
            return .answer(HTTPResponse(status: .noContent, headers: ["Allow": allowHeader]))
        }
        return .answer(.error(
            .methodNotAllowed, code: "method_not_allowed",
            message: "\(path) does not support \(method); use \(allowHeader).",
            headers: ["Allow": allowHeader]
        ))
    }

    private static let canonicalOrder: [HTTPMethod] = [.get, .head, .post, .put, .patch, .delete, .options]

    private static func segments(ofPattern pattern: String) -> [Segment] {
        pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { part in
            if part.count > 2, part.hasPrefix("{"), part.hasSuffix("}") {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            return .literal(String(part))
        }
    }

    /// The decoded segments of a path, or nil if one has a broken percent-encoding.
    private static func segments(ofPath path: String) -> [String]? {
        var decoded: [String] = []
        // Split on bytes, not characters: "/" is ASCII, and this runs for every request.
        for part in path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst() {
            guard let segment = PercentEncoding.decode(Substring(part)) else { return nil }
            decoded.append(segment)
        }
        return decoded
    }

    private static func match(_ pattern: [Segment], _ path: [String]) -> [String: String]? {
        guard pattern.count == path.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, value) in zip(pattern, path) {
            switch segment {
            case .literal(let literal):
                guard literal == value else { return nil }
            case .parameter(let name):
                guard !value.isEmpty else { return nil }
                parameters[name] = value
            }
        }
        return parameters
    }
}
