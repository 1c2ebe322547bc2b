import Foundation

/// One tensor's description in a safetensors header.
public struct SafeTensorsEntry: Sendable, Equatable {
    /// The key, e.g. `visual.conv1.weight`.
    public let name: String
    /// The element type as stored.
    public let dtype: SafeTensorsDType
    /// The shape, outermost dimension first.
    public let shape: [Int]
    /// Byte range of the data, relative to the start of the data section.
    let byteRange: Range<Int>

    /// Number of elements (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A validated, memory-mapped `.safetensors` file.
///
/// Layout (the format's own specification): an 8-byte little-endian header length `N`,
/// `N` bytes of JSON mapping each name to `{dtype, shape, data_offsets}` (plus an optional
/// `__metadata__` string map), then the data section. Everything in the header is checked
/// against the file before any tensor is read: a known dtype, non-negative dimensions,
/// a byte length equal to `elements × dtype size`, and offsets that tile the data section
/// exactly (no holes, no overlaps, nothing past the end), as the format requires.
///
/// The mapping is read-only and never written through, so the value can be shared
/// between threads.
public final class SafeTensorsFile: Sendable {
    /// The largest header accepted; real model headers are tens of kilobytes.
    public static let maxHeaderBytes = 100_000_000

    /// The file this was opened from.
    public let url: URL
    /// Every tensor, in the order of its data in the file.
    public let entries: [SafeTensorsEntry]
    /// The header's `__metadata__` map (empty when absent).
    public let metadata: [String: String]

    private let entriesByName: [String: SafeTensorsEntry]
    private let file: MappedFile
    private let dataOffset: Int

    /// Opens, maps and validates the file at `url`.
    public init(contentsOf url: URL) throws(SafeTensorsError) {
        self.url = url
        do {
            file = try MappedFile(path: url.path)
        } catch {
            throw .unreadable(path: url.path, reason: error.reason)
        }
        let header = try Self.parseHeader(file.bytes, path: url.path)
        dataOffset = header.dataOffset
        entries = header.entries
        metadata = header.metadata
        entriesByName = Dictionary(uniqueKeysWithValues: header.entries.map { ($0.name, $0) })
    }

    /// The entry named `name`, if the file has one.
    public func entry(_ name: String) -> SafeTensorsEntry? { entriesByName[name] }

    /// The tensor named `name` converted to fp32 (from F32, F16 or BF16), row-major.
    ///
    /// When `shape` is given the stored shape must equal it exactly. The mapped pages the
    /// tensor occupied are released afterwards, so loading every tensor of a model does not
    /// keep the file and the copies resident at the same time.
    public func floats(_ name: String, shape: [Int]? = nil) throws(SafeTensorsError) -> [Float] {
        let entry = try checkedEntry(name, shape: shape)
        let count = entry.elementCount
        guard count > 0, let base = file.bytes.baseAddress else { return [] }
        let source = base + dataOffset + entry.byteRange.lowerBound
        let result = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            switch entry.dtype {
            case .f32:
                // The data section is only guaranteed byte-aligned; copy bytes, not floats.
                UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: source, byteCount: count * 4)
            case .f16:
                for index in 0..<count {
                    let bits = source.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)
                    buffer[index] = Float(Float16(bitPattern: UInt16(littleEndian: bits)))
                }
            case .bf16:
                for index in 0..<count {
                    let bits = source.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)
                    buffer[index] = Float(bitPattern: UInt32(UInt16(littleEndian: bits)) << 16)
                }
            default:
                break
            }
            initialized = count
        }
        file.releasePages((dataOffset + entry.byteRange.lowerBound)..<(dataOffset + entry.byteRange.upperBound))
        return result
    }

    /// Calls `body` with the stored fp32 scalars of `name` in place in the mapping (read-only,
    /// byte-aligned only, valid for the call), after the same checks as ``floats(_:shape:)``,
    /// then releases their pages; for a tensor stored in F16 or BF16, with a converted copy.
    /// What packs weights uses, so the load makes no copy of an fp32 tensor first.
    public func withFloat32Storage<Result>(
        _ name: String, shape: [Int]? = nil, _ body: (UnsafeRawPointer) -> Result
    ) throws(SafeTensorsError) -> Result {
        let entry = try checkedEntry(name, shape: shape)
        guard entry.dtype == .f32, entry.elementCount > 0, let base = file.bytes.baseAddress else {
            var scalars = try floats(name, shape: shape)
            if scalars.isEmpty { scalars = [0] }  // an address for a view of nothing
            return scalars.withUnsafeBytes { body($0.baseAddress!) }
        }
        let range = (dataOffset + entry.byteRange.lowerBound)..<(dataOffset + entry.byteRange.upperBound)
        defer { file.releasePages(range) }
        return body(UnsafeRawPointer(base + range.lowerBound))
    }

    /// The raw stored bytes of `name` (any dtype), after the same presence and shape checks
    /// as ``floats(_:shape:)``.
    public func bytes(_ name: String, shape: [Int]? = nil) throws(SafeTensorsError) -> [UInt8] {
        let entry = try checkedEntry(name, shape: shape, requireFloat: false)
        let start = dataOffset + entry.byteRange.lowerBound
        return Array(file.bytes[start..<(start + entry.byteRange.count)])
    }

    private func checkedEntry(
        _ name: String, shape: [Int]?, requireFloat: Bool = true
    ) throws(SafeTensorsError) -> SafeTensorsEntry {
        guard let entry = entriesByName[name] else { throw .missingTensor(name) }
        if let shape, shape != entry.shape {
            throw .shapeMismatch(name, expected: shape, found: entry.shape)
        }
        if requireFloat, ![.f32, .f16, .bf16].contains(entry.dtype) {
            throw .unsupportedDType(name, entry.dtype)
        }
        return entry
    }
}

extension SafeTensorsFile {
    private struct Header {
        var entries: [SafeTensorsEntry]
        var metadata: [String: String]
        var dataOffset: Int
    }

    private static func parseHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws(SafeTensorsError) -> Header {
        let fileSize = bytes.count
        guard fileSize >= 8 else { throw .truncated(path: path, expected: 8, actual: fileSize) }
        let declared = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard declared <= UInt64(maxHeaderBytes) else {
            throw .invalidHeader(path: path, reason: "header length \(declared) exceeds \(maxHeaderBytes) bytes")
        }
        let headerLength = Int(declared)
        guard fileSize >= 8 + headerLength else {
            throw .truncated(path: path, expected: 8 + headerLength, actual: fileSize)
        }
        let headerBytes = Data(bytes[8..<(8 + headerLength)])
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw .invalidHeader(path: path, reason: "header does not start with '{'")
        }
        let fields: [String: HeaderField]
        do {
            fields = try JSONDecoder().decode([String: HeaderField].self, from: headerBytes)
        } catch {
            throw .invalidHeader(path: path, reason: "not a JSON object of tensor entries (\(error))")
        }

        let dataOffset = 8 + headerLength
        let dataSize = fileSize - dataOffset
        var metadata: [String: String] = [:]
        var entries: [SafeTensorsEntry] = []
        for (name, field) in fields {
            switch field {
            case let .metadata(map) where name == "__metadata__":
                metadata = map
            case let .tensor(raw) where name != "__metadata__":
                entries.append(try validatedEntry(name: name, raw: raw, path: path))
            default:
                throw .invalidHeader(path: path, reason: "entry '\(name)' is malformed")
            }
        }

        // The format requires the entries to tile the data section exactly.
        entries.sort { ($0.byteRange.lowerBound, $0.byteRange.upperBound) < ($1.byteRange.lowerBound, $1.byteRange.upperBound) }
        var expectedStart = 0
        for entry in entries {
            guard entry.byteRange.lowerBound == expectedStart else {
                let reason = entry.byteRange.lowerBound < expectedStart
                    ? "overlaps the previous tensor (starts at \(entry.byteRange.lowerBound), previous ends at \(expectedStart))"
                    : "leaves a hole (starts at \(entry.byteRange.lowerBound), previous ends at \(expectedStart))"
                throw .invalidOffsets(path: path, tensor: entry.name, reason: reason)
            }
            expectedStart = entry.byteRange.upperBound
        }
        // Tensors that tile more bytes than the file holds mean the file was cut short.
        guard expectedStart <= dataSize else {
            throw .truncated(path: path, expected: dataOffset + expectedStart, actual: fileSize)
        }
        guard expectedStart == dataSize else {
            throw .invalidHeader(path: path, reason: "data section is \(dataSize) bytes but the tensors cover \(expectedStart)")
        }
        return Header(entries: entries, metadata: metadata, dataOffset: dataOffset)
    }

    /// One value of the header object: a tensor entry, or the `__metadata__` string map.
    private enum HeaderField: Decodable {
        case tensor(RawEntry)
        case metadata([String: String])

        init(from decoder: Decoder) throws {
            if let raw = try? RawEntry(from: decoder) {
                self = .tensor(raw)
            } else {
                self = .metadata(try [String: String](from: decoder))
            }
        }
    }

    /// A tensor entry as written; integers only (JSON fractions and booleans fail to decode).
    private struct RawEntry: Decodable {
        var dtype: String
        var shape: [Int]
        var dataOffsets: [Int]

        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    private static func validatedEntry(name: String, raw: RawEntry, path: String) throws(SafeTensorsError) -> SafeTensorsEntry {
        guard let dtype = SafeTensorsDType(rawValue: raw.dtype) else {
            throw .invalidHeader(path: path, reason: "entry '\(name)' has unknown dtype '\(raw.dtype)'")
        }
        guard raw.shape.allSatisfy({ $0 >= 0 }) else {
            throw .invalidHeader(path: path, reason: "entry '\(name)' has a negative dimension in \(raw.shape)")
        }
        guard raw.dataOffsets.count == 2, raw.dataOffsets[0] >= 0 else {
            throw .invalidHeader(path: path, reason: "entry '\(name)' needs data_offsets [begin, end]")
        }
        let begin = raw.dataOffsets[0], end = raw.dataOffsets[1]
        guard begin <= end else {
            throw .invalidOffsets(path: path, tensor: name, reason: "begin \(begin) is after end \(end)")
        }
        var byteCount = dtype.byteCount
        for dimension in raw.shape {
            let (product, overflow) = byteCount.multipliedReportingOverflow(by: dimension)
            guard !overflow else {
                throw .invalidHeader(path: path, reason: "entry '\(name)' has a shape too large to address")
            }
            byteCount = product
        }
        guard end - begin == byteCount else {
            throw .invalidOffsets(
                path: path, tensor: name,
                reason: "covers \(end - begin) bytes, but \(dtype.rawValue) \(raw.shape) needs \(byteCount)")
        }
        return SafeTensorsEntry(name: name, dtype: dtype, shape: raw.shape, byteRange: begin..<end)
    }
}
