import CZlib

/// Why zlib could not turn a file's bytes into text.
enum GzipFailure: Error, Equatable {
    case notGzip
    case corrupt(String)
    case tooLarge
}

/// gzip decompression of a whole file held in memory, as Python's `gzip.open(...).read()`
/// does it: every member of a multi-member file, in order.
enum Gzip {
    /// The decompressed bytes of `compressed`, refusing to produce more than `limit` bytes.
    static func decompress(_ compressed: [UInt8], limit: Int) throws(GzipFailure) -> [UInt8] {
        guard compressed.count >= 2, compressed[0] == 0x1F, compressed[1] == 0x8B else {
            throw .notGzip
        }
        var stream = z_stream()
        // 16 + MAX_WBITS: accept the gzip wrapper (header and CRC-32 trailer), not raw zlib.
        let initStatus = inflateInit2_(&stream, 16 + MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else { throw .corrupt(zlibMessage(stream, status: initStatus)) }
        defer { inflateEnd(&stream) }

        var output: [UInt8] = []
        output.reserveCapacity(compressed.count * 4)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var input = compressed
        return try input.withUnsafeMutableBufferPointer { (inputBuffer) throws(GzipFailure) -> [UInt8] in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = uInt(inputBuffer.count)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { outputBuffer in
                    stream.next_out = outputBuffer.baseAddress
                    stream.avail_out = uInt(outputBuffer.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, outputBuffer.count - Int(stream.avail_out))
                }
                guard output.count + produced <= limit else { throw .tooLarge }
                output += chunk[..<produced]
                switch status {
                case Z_STREAM_END:
                    if stream.avail_in == 0 { return output }
                    // Another gzip member follows; it must be a complete one too.
                    let resetStatus = inflateReset(&stream)
                    guard resetStatus == Z_OK else { throw .corrupt(zlibMessage(stream, status: resetStatus)) }
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw .corrupt("the compressed data ends before the gzip stream does")
                default:
                    throw .corrupt(zlibMessage(stream, status: status))
                }
            }
        }
    }

    private static func zlibMessage(_ stream: z_stream, status: Int32) -> String {
        if let message = stream.msg { return String(cString: message) }
        return "zlib status \(status)"
    }
}
