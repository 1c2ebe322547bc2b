/// Who may call a route when the server has API keys.
enum RouteAccess: Sendable, Equatable {
    /// Anyone: the probes and the console page.
    case open
    /// Any valid key (`/metrics` only when `metrics_public` is false).
    case anyKey
    /// `/metrics`: open when `metrics_public`, else any valid key.
    case metrics
    /// A key with this scope.
    case scope(APIKeyScope)
}
