/// The SHA-256 of a model's weights file and where it came from, as ``ModelHashCache`` found it.
public struct ModelDigest: Sendable, Equatable {
    /// 64 lowercase hex digits.
    public let sha256: String
    /// True when the digest was taken from the cache, without reading the file.
    public let reused: Bool
    /// Why the digest just computed could not be kept for the next start (nil when it was
    /// kept, or reused). Such a failure only costs the next start a re-hash, so it is a
    /// warning, not an error.
    public let notCached: String?

    public init(sha256: String, reused: Bool, notCached: String? = nil) {
        self.sha256 = sha256
        self.reused = reused
        self.notCached = notCached
    }
}
