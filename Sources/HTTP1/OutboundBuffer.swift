/// Bytes waiting to be written to one connection, and where each message in them ends, so
/// the connection learns when a response has fully left (to close after it, or to start
/// the clocks that wait for the client again).
struct OutboundBuffer {
    /// The end of one message in the stream.
    struct Boundary: Equatable {
        /// Offset just past the message's last byte, counted from the start of the stream.
        var end: Int
        /// Whether this is a final response (not an interim `100 Continue`).
        var isFinalResponse: Bool
        /// Whether the connection closes after this message.
        var closesConnection: Bool
    }

    private var bytes: [UInt8] = []
    private var writtenIndex = 0
    /// Offset in the stream of `bytes[0]`, so boundaries survive compaction.
    private var streamOffset = 0
    private var boundaries: [Boundary] = []

    /// Buffers larger than this are released once drained instead of kept for reuse.
    private static let retainedCapacity = 256 * 1024

    /// Whether bytes are waiting to be written.
    var hasPendingBytes: Bool {
        writtenIndex < bytes.count
    }

    /// Number of bytes waiting to be written.
    var pendingByteCount: Int {
        bytes.count - writtenIndex
    }

    /// Appends one message written by `write`.
    mutating func append(isFinalResponse: Bool, closesConnection: Bool, _ write: (inout [UInt8]) -> Void) {
        write(&bytes)
        boundaries.append(Boundary(end: streamOffset + bytes.count, isFinalResponse: isFinalResponse, closesConnection: closesConnection))
    }

    /// Calls `body` with the bytes not yet written.
    func withPendingBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        bytes.withUnsafeBytes { all in
            body(UnsafeRawBufferPointer(rebasing: all[writtenIndex...]))
        }
    }

    /// Records that `count` more bytes were written; the messages that thereby finished are
    /// then taken one by one with ``takeFinished()``.
    mutating func markWritten(_ count: Int) {
        writtenIndex += count
        if writtenIndex == bytes.count {
            streamOffset += bytes.count
            if bytes.capacity > Self.retainedCapacity {
                bytes = []
            } else {
                bytes.removeAll(keepingCapacity: true)
            }
            writtenIndex = 0
        }
    }

    /// Removes and returns the first message whose last byte has been written, or nil when
    /// the first has not (or there is none): in order, without an array per write.
    mutating func takeFinished() -> Boundary? {
        guard let first = boundaries.first, first.end <= streamOffset + writtenIndex else { return nil }
        boundaries.removeFirst()
        return first
    }
}
