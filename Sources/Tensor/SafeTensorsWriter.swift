import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Builds a `.safetensors` file from tensors added in order, and writes it atomically.
///
/// Tensors are stored in the order they were added; the header is padded with spaces so
/// the data section starts 8-byte aligned, as the reference writer does.
public struct SafeTensorsWriter {
    private struct Pending {
        var name: String
        var dtype: SafeTensorsDType
        var shape: [Int]
        var bytes: [UInt8]
    }

    private var pending: [Pending] = []
    private var names: Set<String> = []

    /// Free-form string metadata stored under `__metadata__`.
    public var metadata: [String: String] = [:]

    /// An empty file.
    public init() {}

    /// Adds an fp32 tensor. `floats.count` must equal the product of `shape`.
    public mutating func add(_ name: String, shape: [Int], floats: [Float]) {
        let bytes = floats.withUnsafeBytes { raw in
            // Stored little-endian, which is this platform's order.
            Array(raw)
        }
        add(name, shape: shape, dtype: .f32, bytes: bytes)
    }

    /// Adds a tensor given as its stored bytes. `bytes.count` must equal
    /// `dtype.byteCount × product(shape)`; a duplicate name is a programming error.
    public mutating func add(_ name: String, shape: [Int], dtype: SafeTensorsDType, bytes: [UInt8]) {
        precondition(bytes.count == shape.reduce(dtype.byteCount, *), "'\(name)': \(bytes.count) bytes do not fit \(dtype.rawValue) \(shape)")
        precondition(names.insert(name).inserted, "tensor '\(name)' added twice")
        pending.append(Pending(name: name, dtype: dtype, shape: shape, bytes: bytes))
    }

    /// The encoded header (JSON, space-padded to a multiple of 8 bytes).
    func encodedHeader() -> [UInt8] {
        var parts: [String] = []
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            parts.append("\"__metadata__\":{\(items.joined(separator: ","))}")
        }
        var offset = 0
        for tensor in pending {
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            let end = offset + tensor.bytes.count
            parts.append("\(jsonString(tensor.name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array("{\(parts.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        return header
    }

    /// Writes the file: to a temporary file beside `url`, fsynced, renamed over `url`, and
    /// the directory fsynced, so a crash leaves either the old file or the new one.
    public func write(to url: URL) throws(SafeTensorsError) {
        let header = encodedHeader()
        var prefix = [UInt8](repeating: 0, count: 8)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { prefix = Array($0) }
        do {
            try AtomicFile.write(to: url) { handle in
                try handle.write(prefix)
                try handle.write(header)
                for tensor in pending { try handle.write(tensor.bytes) }
            }
        } catch {
            throw .writeFailed(path: url.path, reason: "\(error)")
        }
    }

    private func jsonString(_ text: String) -> String {
        var escaped = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case _ where scalar.value < 0x20:
                escaped += "\\u" + String(format: "%04x", scalar.value)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped + "\""
    }
}
