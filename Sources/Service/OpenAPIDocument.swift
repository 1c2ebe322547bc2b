/// The API description served at `GET /openapi.yaml`, generated from `openapi.yaml` at the
/// repository root by `scripts/sync-openapi`.
public enum OpenAPIDocument {
    public static let yaml = #"""
openapi: 3.0.3
info:
  title: inctrl-serve
  version: 0.1.0
paths: {}
"""#
}
