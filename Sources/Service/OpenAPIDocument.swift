/// The HTTP API contract, served at `GET /openapi.yaml`: `openapi.yaml` at the repository's
/// root byte for byte, compiled into the binary as a SwiftPM resource
/// (`Resources/openapi.yaml` is a link to it), so the executable needs no files beside it.
public enum OpenAPIDocument {
    /// The OpenAPI document as YAML bytes.
    public static let yaml: [UInt8] = PackageResources.openapi_yaml
}
