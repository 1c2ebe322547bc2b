import COpenSSL
import Foundation

/// SHA-256 through OpenSSL's EVP interface, for content ids and source-file provenance.
public struct SHA256: ~Copyable {
    private let context: OpaquePointer

    /// A fresh digest.
    public init() {
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            fatalError("OpenSSL could not initialise SHA-256")
        }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Feeds `bytes`.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    /// Feeds `bytes`.
    public mutating func update<Bytes: ContiguousBytes>(_ bytes: Bytes) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest as 64 lowercase hex digits; the value cannot be used afterwards.
    public consuming func hexDigest() -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }

    /// SHA-256 of `bytes` as hex.
    public static func hex<Bytes: ContiguousBytes>(_ bytes: Bytes) -> String {
        var digest = SHA256()
        digest.update(bytes)
        return digest.hexDigest()
    }

    /// SHA-256 of a whole file, read through a mapping in chunks whose pages are released as
    /// it goes (so hashing a model does not keep it resident).
    public static func hex(ofFileAt path: String) throws(MappedFile.Failure) -> String {
        let file = try MappedFile(path: path)
        var digest = SHA256()
        let chunk = 64 << 20
        var start = 0
        while start < file.bytes.count {
            let end = min(start + chunk, file.bytes.count)
            digest.update(UnsafeRawBufferPointer(rebasing: file.bytes[start..<end]))
            file.releasePages(start..<end)
            start = end
        }
        return digest.hexDigest()
    }
}
