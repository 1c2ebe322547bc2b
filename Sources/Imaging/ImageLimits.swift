/// Bounds that keep decoding cheap for hostile input: every limit is checked before the
/// memory it guards is allocated.
public struct ImageLimits: Sendable, Equatable {
    /// The most pixels (width × height, read from the header) an image may declare. The
    /// check runs before any pixel buffer exists, so a 100 000 × 100 000 header is refused
    /// in microseconds.
    public var maxPixels: Int = 40_000_000

    /// The most encoded bytes accepted; larger bodies are refused before any parsing.
    public var maxEncodedBytes: Int = 64 << 20

    /// The most bytes the PNG decoder may hold for ancillary chunks (text, ICC profiles and
    /// other metadata, after decompression). Guards against zTXt/iCCP decompression bombs.
    /// (libspng separately refuses files with more than 1 000 stored ancillary chunks.)
    public var maxMetadataBytes: Int = 8 << 20

    /// Limits suited to serving untrusted uploads.
    public init() {}

    /// Limits with explicit values; omitted ones keep their defaults.
    public init(
        maxPixels: Int = 40_000_000,
        maxEncodedBytes: Int = 64 << 20,
        maxMetadataBytes: Int = 8 << 20
    ) {
        self.maxPixels = maxPixels
        self.maxEncodedBytes = maxEncodedBytes
        self.maxMetadataBytes = maxMetadataBytes
    }
}
