/// The body of `GET /healthz`: `{"status": "ok"}`.
struct HealthBody: Encodable {
    let status: String
}
