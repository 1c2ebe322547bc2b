import Foundation
import Testing
@testable import Service

/// What `openapi.yaml` states in words because OpenAPI 3.0 cannot express it, and so what
/// `scripts/contract-test` tells schemathesis (its `[parameters]`, its `expected-statuses`
/// and its ASCII codec). Each rule is checked here against a real service, and each must be
/// stated in the document.
@Suite struct ContractExceptionTests {
    /// A raw image body can name its prompt set only in the query, but the query parameter
    /// must stay optional for the multipart and JSON bodies that carry it themselves: a
    /// parameter cannot be required for one media type only. The contract test therefore
    /// always sends `prompt_set`.
    @Test func aRawImageBodyNeedsThePromptSetQueryParameter() async throws {
        let running = try await InCTRLServiceTests.Running(dataDirectory: try PromptSetTestData.scratchDirectory("contract"))
        defer { Task { await running.stop() } }
        let (status, body) = try await running.json("POST", "/score", body: try InCTRLServiceTests.cell("0001_defective"), contentType: "image/png")
        #expect(status == 400 && InCTRLServiceTests.errorCode(body) == "missing_field")
        #expect(OpenAPIDocumentTests.text.contains("With a raw `image/png` or `image/jpeg` body the query parameter is the only place"))
    }

    /// No schema can say "bytes that decode as a PNG or JPEG": schema-valid base64 or form
    /// parts are mostly not images and answer 422, which the contract test accepts for the
    /// two operations that take images.
    @Test func validBase64ThatIsNoImageAnswers422() async throws {
        let running = try await InCTRLServiceTests.Running(dataDirectory: try PromptSetTestData.scratchDirectory("contract"))
        defer { Task { await running.stop() } }
        let notAnImage = Data("hello".utf8).base64EncodedString()
        let registration = [UInt8](try JSONSerialization.data(withJSONObject: ["images": [notAnImage]]))
        let (registered, refusal) = try await running.json("POST", "/prompts", body: registration, contentType: "application/json")
        #expect(registered == 422 && InCTRLServiceTests.errorCode(refusal) == "undecodable_image")

        let set = [UInt8](try JSONSerialization.data(withJSONObject: ["images": [Data(try InCTRLServiceTests.cell("0004_functional")).base64EncodedString()]]))
        let id = try #require(try await running.json("POST", "/prompts", body: set, contentType: "application/json").1["id"] as? String)
        let query = [UInt8](try JSONSerialization.data(withJSONObject: ["prompt_set": id, "image": notAnImage]))
        let (scored, scoreRefusal) = try await running.json("POST", "/score", body: query, contentType: "application/json")
        #expect(scored == 422 && InCTRLServiceTests.errorCode(scoreRefusal) == "undecodable_image")
        #expect(OpenAPIDocumentTests.text.contains("valid base64 that is not such an image answers `422 undecodable_image`"))
    }

    /// The document the server serves is `openapi.yaml` byte for byte.
    @Test func theServedDocumentIsTheFile() async throws {
        let running = try await InCTRLServiceTests.Running(dataDirectory: try PromptSetTestData.scratchDirectory("contract-document"))
        defer { Task { await running.stop() } }
        let served = try await running.send("GET", "/openapi.yaml")
        #expect(served.status == 200 && served.headers["content-type"] == "application/yaml")
        #expect(served.body == Array(try Data(contentsOf: OpenAPIDocumentTests.sourceFile)))
    }

    /// The class name's limit is 256 UTF-8 bytes, which JSON Schema can only bound in
    /// characters (`maxLength: 256`): 100 three-byte characters fit the schema and are
    /// refused. The contract test generates ASCII, where the two agree.
    @Test func theClassNameLimitIsInBytes() async throws {
        let running = try await InCTRLServiceTests.Running(dataDirectory: try PromptSetTestData.scratchDirectory("contract"))
        defer { Task { await running.stop() } }
        let body = [UInt8](try JSONSerialization.data(withJSONObject: [
            "class_name": String(repeating: "中", count: 100), "images": [Data(try InCTRLServiceTests.cell("0004_functional")).base64EncodedString()],
        ]))
        let (status, refusal) = try await running.json("POST", "/prompts", body: body, contentType: "application/json")
        #expect(status == 400 && InCTRLServiceTests.errorCode(refusal) == "invalid_field")
        #expect(OpenAPIDocumentTests.text.contains("256 bytes"))
    }
}
