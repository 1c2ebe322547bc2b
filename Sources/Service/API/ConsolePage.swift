import Foundation
import Tensor

/// The web console served at `GET /`: one self-contained HTML page compiled into the
/// binary (`Resources/console.html`), with what its responses need, computed once: a strong
/// ETag (the SHA-256 of the bytes) and a Content-Security-Policy that lets exactly the
/// page's own inline `<script>` and `<style>` elements run (by their SHA-256 hashes) and
/// forbids every other origin.
struct ConsolePage: Sendable {
    /// The page as served.
    let bytes: [UInt8]
    /// The strong entity tag: the SHA-256 of `bytes` in hex, quoted.
    let etag: String
    /// The `Content-Security-Policy` header's value.
    let contentSecurityPolicy: String

    /// The page compiled into the binary.
    static let embedded = ConsolePage(html: PackageResources.console_html)

    /// The page `html`, whose inline scripts and styles are bare `<script>` and `<style>`
    /// elements (no attributes), the form whose contents are hashed for the policy.
    init(html: [UInt8]) {
        bytes = html
        etag = "\"\(SHA256.hex(html))\""
        let text = String(decoding: html, as: UTF8.self)
        let scripts = Self.contents(of: "script", in: text).map(Self.sourceHash)
        let styles = Self.contents(of: "style", in: text).map(Self.sourceHash)
        contentSecurityPolicy = [
            "default-src 'self'",
            "img-src 'self' data: blob:",
            (["style-src 'self'"] + styles).joined(separator: " "),
            (["script-src 'self'"] + scripts).joined(separator: " "),
            "connect-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ].joined(separator: "; ")
    }

    /// Whether an `If-None-Match` header's value names this page's current version: `*`, or
    /// a list of entity tags one of which matches by the weak comparison (RFC 9110 §13.1.2).
    func isCurrent(ifNoneMatch value: String?) -> Bool {
        guard let value else { return false }
        return value.split(separator: ",").contains { candidate in
            var tag = candidate.trimmingCharacters(in: .whitespaces)
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            return tag == etag
        }
    }

    /// The text between each `<tag>` and the following `</tag>`, in order.
    static func contents(of tag: String, in text: String) -> [Substring] {
        var found: [Substring] = []
        var rest = text[...]
        while let open = rest.firstRange(of: "<\(tag)>"), let close = rest[open.upperBound...].firstRange(of: "</\(tag)>") {
            found.append(rest[open.upperBound..<close.lowerBound])
            rest = rest[close.upperBound...]
        }
        return found
    }

    /// A CSP hash source for an inline element's text: `'sha256-<base64 of the digest>'`.
    static func sourceHash(_ source: Substring) -> String {
        let hex = Array(SHA256.hex(Array(source.utf8)).utf8)
        let digest = stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
        return "'sha256-\(Data(digest).base64EncodedString())'"
    }
}
