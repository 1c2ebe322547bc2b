/// The bounds a request must stay within. RFC 9112 §2.3 lets a server bound every part of a
/// message; without these a single client could make the server buffer without end.
public struct HTTPParserLimits: Sendable, Equatable {
    /// Longest request line, including its CRLF; longer ones get 414 (RFC 9112 §3).
    public var maxRequestLineBytes: Int
    /// Largest header section, counting every field line with its CRLF and the blank line that
    /// ends the section; larger ones get 431 (RFC 6585 §5). The same bound applies to trailers.
    public var maxHeaderBytes: Int
    /// Most header fields in one request; more get 431. The same bound applies to trailers.
    public var maxHeaderCount: Int
    /// Largest body after transfer decoding; larger ones get 413 (RFC 9110 §15.5.14), checked
    /// from Content-Length before any body byte is read, and from each chunk size before
    /// that chunk is read.
    public var maxBodyBytes: Int
    /// Longest chunk-size line with its extensions and CRLF (RFC 9112 §7.1.1 lets a server
    /// bound extensions, which carry nothing this server uses).
    public var maxChunkLineBytes: Int

    /// Limits with safe defaults: 8 KiB request line, 32 KiB and 100 header fields, 64 MiB
    /// body, 4 KiB chunk-size lines.
    public init(
        maxRequestLineBytes: Int = 8 * 1024,
        maxHeaderBytes: Int = 32 * 1024,
        maxHeaderCount: Int = 100,
        maxBodyBytes: Int = 64 * 1024 * 1024,
        maxChunkLineBytes: Int = 4 * 1024
    ) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
        self.maxChunkLineBytes = maxChunkLineBytes
    }
}
