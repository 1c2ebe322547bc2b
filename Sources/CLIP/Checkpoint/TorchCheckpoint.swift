import Foundation
import Tensor

/// A PyTorch checkpoint (`torch.save` zip format, PyTorch ≥ 1.6) holding a state_dict,
/// read without Python and without executing anything from the file.
///
/// Layout: a zip of stored entries under one top folder: `<top>/data.pkl` (the pickle),
/// `<top>/data/<key>` (raw little-endian storages), `<top>/byteorder` (optional). The
/// state_dict is either the pickled object itself or its `model_state` entry (InCTRL's
/// training script saves `{"epoch", "model_state", "cfg"}`).
public final class TorchCheckpoint: Sendable {
    /// One tensor of the state_dict, described without reading its data.
    public struct TensorInfo: Sendable, Equatable {
        /// The key, e.g. `visual.conv1.weight`.
        public let name: String
        /// Element type name (`float32`, `float16`, `bfloat16`, `int64`, …).
        public let dtype: String
        /// Shape, outermost first.
        public let shape: [Int]
    }

    /// The checkpoint file.
    public let url: URL
    /// Every tensor of the state_dict, in the pickle's order.
    public let tensorInfos: [TensorInfo]

    private let archive: ZipArchive
    private let prefix: String
    private let tensors: [String: TorchTensor]

    /// Opens `url`, checks the archive, and runs the restricted unpickler over `data.pkl`.
    public init(contentsOf url: URL) throws(CheckpointError) {
        self.url = url
        let file: MappedFile
        do {
            file = try MappedFile(path: url.path)
        } catch {
            throw .unreadable(path: url.path, reason: error.reason)
        }
        archive = try ZipArchive(file: file)
        guard let pickleEntry = archive.entries.first(where: { $0.name.hasSuffix("data.pkl") && $0.name.split(separator: "/").count == 2 })
        else { throw .missingEntry("<top>/data.pkl") }
        prefix = String(pickleEntry.name.dropLast("data.pkl".count))
        if let byteOrder = archive.entry(prefix + "byteorder") {
            let order = String(decoding: try archive.bytes(of: byteOrder), as: UTF8.self)
            guard order == "little" else {
                throw .unsupportedEntry(name: byteOrder.name, reason: "byte order '\(order)'; only little-endian is supported")
            }
        }
        var unpickler = RestrictedUnpickler(try archive.bytes(of: pickleEntry))
        let root = try unpickler.load()
        let stateDict = try Self.stateDict(in: root)

        var infos: [TensorInfo] = []
        var tensors: [String: TorchTensor] = [:]
        for (key, value) in zip(stateDict.keys, stateDict.values) {
            guard case let .string(name) = key, case let .tensor(tensor) = value else { continue }
            infos.append(TensorInfo(name: name, dtype: tensor.storage.element.rawValue, shape: tensor.shape))
            tensors[name] = tensor
        }
        guard !infos.isEmpty else { throw .noStateDict("the state_dict has no tensors") }
        tensorInfos = infos
        self.tensors = tensors
    }

    /// The state_dict: the root dictionary, or its `model_state` entry.
    private static func stateDict(in root: PickleValue) throws(CheckpointError) -> PickleDict {
        guard case let .dict(dict) = root else { throw .noStateDict("the pickle holds a \(root.kind), not a dictionary") }
        if case let .dict(nested)? = dict["model_state"] { return nested }
        return dict
    }

    /// The tensor named `name` as contiguous row-major fp32, converted from float32,
    /// float16, bfloat16 or float64 storage; strided views and shared storages are followed.
    /// With `shape` given, the tensor must have exactly that shape.
    public func floats(_ name: String, shape expected: [Int]? = nil) throws(CheckpointError) -> [Float] {
        guard let tensor = tensors[name] else { throw .missingTensor(name) }
        if let expected, expected != tensor.shape { throw .shapeMismatch(name, expected: expected, found: tensor.shape) }
        let element = tensor.storage.element
        guard [.float32, .float16, .bfloat16, .float64].contains(element) else {
            throw .unsupportedDType(tensor: name, dtype: element.rawValue)
        }
        let storage = try storageBytes(tensor, name: name)
        let count = tensor.shape.reduce(1, *)
        guard count > 0 else { return [] }

        defer { archive.file.releasePages(storageRange(tensor)) }
        if element == .float32, tensor.isContiguous {
            return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(
                    from: storage.baseAddress! + tensor.offset * 4, byteCount: count * 4)
                initialized = count
            }
        }

        // Element indices of the view, in row-major order of its shape.
        let rank = tensor.shape.count
        var result = [Float](repeating: 0, count: count)
        var coordinate = [Int](repeating: 0, count: rank)
        var source = tensor.offset
        for index in 0..<count {
            result[index] = Self.load(element, from: storage, at: source)
            var axis = rank - 1
            while axis >= 0 {
                coordinate[axis] += 1
                source += tensor.strides[axis]
                if coordinate[axis] < tensor.shape[axis] { break }
                source -= tensor.strides[axis] * tensor.shape[axis]
                coordinate[axis] = 0
                axis -= 1
            }
        }
        return result
    }

    /// The raw bytes of a storage, after checking that the view stays inside it.
    private func storageBytes(_ tensor: TorchTensor, name: String) throws(CheckpointError) -> UnsafeRawBufferPointer {
        let entryName = prefix + "data/" + tensor.storage.key
        guard let entry = archive.entry(entryName) else { throw .missingEntry(entryName) }
        let elementSize = tensor.storage.element.byteCount
        // The furthest element the view touches, then the bytes that needs.
        var furthest = tensor.offset
        for (size, stride) in zip(tensor.shape, tensor.strides) where size > 0 {
            let (reach, overflow) = (size - 1).multipliedReportingOverflow(by: stride)
            guard !overflow else { throw .storageTooShort(tensor: name, needed: Int.max, available: entry.dataRange.count) }
            furthest += reach
        }
        let needed = tensor.shape.contains(0) ? 0 : (furthest + 1) * elementSize
        let available = min(entry.dataRange.count, tensor.storage.count * elementSize)
        guard needed <= available else { throw .storageTooShort(tensor: name, needed: needed, available: available) }
        // Storages are verified by CRC once per process use; a damaged archive fails here.
        return try archive.bytes(of: entry, verify: true)
    }

    private func storageRange(_ tensor: TorchTensor) -> Range<Int> {
        archive.entry(prefix + "data/" + tensor.storage.key)?.dataRange ?? 0..<0
    }

    private static func load(_ element: TorchStorage.Element, from bytes: UnsafeRawBufferPointer, at index: Int) -> Float {
        switch element {
        case .float32:
            Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
        case .float16:
            Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))))
        case .bfloat16:
            Float(bitPattern: UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))) << 16)
        case .float64:
            Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))))
        default:
            0
        }
    }
}
