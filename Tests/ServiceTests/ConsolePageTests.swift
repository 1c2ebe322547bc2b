import Foundation
import HTTP1
import Logging
import Tensor
import Testing
@testable import Service

/// The console page's entity tag, revalidation and Content-Security-Policy. The page's
/// behaviour in a browser is tested end to end by `Tests/Console/test_console.py`.
@Suite struct ConsolePageTests {
    static let page = ConsolePage.embedded

    @Test func etagIsTheQuotedSHA256OfTheBytes() {
        #expect(!Self.page.bytes.isEmpty)
        #expect(Self.page.etag == "\"\(SHA256.hex(Self.page.bytes))\"")
    }

    @Test func revalidatesByWeakComparison() {
        let page = Self.page
        #expect(page.isCurrent(ifNoneMatch: page.etag))
        #expect(page.isCurrent(ifNoneMatch: "W/\(page.etag)"))
        #expect(page.isCurrent(ifNoneMatch: "\"other\", \(page.etag)"))
        #expect(page.isCurrent(ifNoneMatch: "*"))
        #expect(!page.isCurrent(ifNoneMatch: nil))
        #expect(!page.isCurrent(ifNoneMatch: "\"other\""))
        #expect(!page.isCurrent(ifNoneMatch: String(page.etag.dropLast())))
    }

    @Test func policyHashesExactlyTheInlineScriptAndStyle() {
        let page = ConsolePage(html: Array("<style>b{}</style><p>x</p><script>alert(1)</script><script>f()</script>".utf8))
        // Digests as `printf '%s' 'alert(1)' | openssl sha256 -binary | base64` gives them.
        #expect(page.contentSecurityPolicy.contains("script-src 'self' 'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"))
        #expect(page.contentSecurityPolicy.contains("'sha256-\(Self.base64SHA256("f()"))'"))
        #expect(page.contentSecurityPolicy.contains("style-src 'self' 'sha256-\(Self.base64SHA256("b{}"))'"))
        #expect(!page.contentSecurityPolicy.contains("unsafe"))
    }

    @Test func embeddedPageIsSelfContained() {
        let text = String(decoding: Self.page.bytes, as: UTF8.self)
        #expect(ConsolePage.contents(of: "script", in: text).count == 1)
        #expect(ConsolePage.contents(of: "style", in: text).count == 1)
        #expect(!text.contains("<script src"))
        #expect(!text.contains("<link rel=\"stylesheet\""))
        #expect(text.contains("<link rel=\"icon\" href=\"data:"))
        for directive in ["default-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"] {
            #expect(Self.page.contentSecurityPolicy.contains(directive))
        }
    }

    @Test func responseCarriesTheHeadersAnd304() throws {
        let service = try InCTRLService(
            configuration: ServiceConfiguration(),
            store: FileStore(dataDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("console-\(UUID().uuidString)")),
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let page = Self.page
        let full = service.console(HTTPRequest(method: .get, target: "/"))
        #expect(full.status == .ok && full.body == page.bytes)
        #expect(full.headers["Content-Type"] == "text/html; charset=utf-8")
        #expect(full.headers["ETag"] == page.etag && full.headers["Cache-Control"] == "no-cache")
        #expect(full.headers["Content-Security-Policy"] == page.contentSecurityPolicy)
        #expect(full.headers["X-Content-Type-Options"] == "nosniff" && full.headers["Referrer-Policy"] == "no-referrer")
        let cached = service.console(HTTPRequest(method: .get, target: "/", headers: ["If-None-Match": page.etag]))
        #expect(cached.status == .notModified && cached.body.isEmpty && cached.headers["ETag"] == page.etag)
    }

    static func base64SHA256(_ text: String) -> String {
        let hex = Array(SHA256.hex(Array(text.utf8)).utf8)
        let bytes = stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
        return Data(bytes).base64EncodedString()
    }
}
