/// A value rebuilt by ``RestrictedUnpickler``: plain data, containers, and the two torch
/// objects a state_dict is made of. Nothing here can run code.
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// A reference to an allowed global, kept by name until `REDUCE` applies it.
    case global(AllowedGlobal)
    /// A storage named by a persistent id: the archive entry `data/<key>`.
    case storage(TorchStorage)
    /// A tensor view of a storage.
    case tensor(TorchTensor)

    /// A short name of the kind of value, for error messages.
    var kind: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .tuple: "tuple"
        case .list: "list"
        case .dict: "dict"
        case let .global(global): global.rawValue
        case .storage: "storage"
        case .tensor: "tensor"
        }
    }
}

/// A mutable list (pickles append to lists after memoising them).
final class PickleList {
    var items: [PickleValue] = []
}

/// A mutable dictionary that keeps insertion order, as `OrderedDict` and `dict` do.
final class PickleDict {
    private(set) var keys: [PickleValue] = []
    private(set) var values: [PickleValue] = []
    private var stringIndex: [String: Int] = [:]

    /// Sets `value` for `key`; a repeated string key replaces the earlier value in place.
    func set(_ key: PickleValue, _ value: PickleValue) {
        if case let .string(name) = key {
            if let position = stringIndex[name] {
                values[position] = value
                return
            }
            stringIndex[name] = keys.count
        }
        keys.append(key)
        values.append(value)
    }

    /// The value for a string key.
    subscript(name: String) -> PickleValue? {
        stringIndex[name].map { values[$0] }
    }
}

/// The globals a tensor state_dict needs; the unpickler refuses every other name.
enum AllowedGlobal: String, CaseIterable {
    case orderedDict = "collections.OrderedDict"
    case rebuildTensorV2 = "torch._utils._rebuild_tensor_v2"
    case rebuildParameter = "torch._utils._rebuild_parameter"
    case floatStorage = "torch.FloatStorage"
    case halfStorage = "torch.HalfStorage"
    case bfloat16Storage = "torch.BFloat16Storage"
    case doubleStorage = "torch.DoubleStorage"
    case longStorage = "torch.LongStorage"
    case intStorage = "torch.IntStorage"
    case shortStorage = "torch.ShortStorage"
    case charStorage = "torch.CharStorage"
    case byteStorage = "torch.ByteStorage"
    case boolStorage = "torch.BoolStorage"

    /// The element type of a storage class, as (name, bytes per element).
    var storageElement: TorchStorage.Element? {
        switch self {
        case .floatStorage: .float32
        case .halfStorage: .float16
        case .bfloat16Storage: .bfloat16
        case .doubleStorage: .float64
        case .longStorage: .int64
        case .intStorage: .int32
        case .shortStorage: .int16
        case .charStorage: .int8
        case .byteStorage: .uint8
        case .boolStorage: .bool
        case .orderedDict, .rebuildTensorV2, .rebuildParameter: nil
        }
    }
}

/// A storage as a persistent id names it: `('storage', <type>, key, location, numel)`.
struct TorchStorage: Equatable {
    /// Element types of torch storages.
    enum Element: String {
        case float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool

        var byteCount: Int {
            switch self {
            case .float64, .int64: 8
            case .float32, .int32: 4
            case .float16, .bfloat16, .int16: 2
            case .int8, .uint8, .bool: 1
            }
        }
    }

    let element: Element
    /// The archive entry name under `data/`.
    let key: String
    /// Elements in the storage, as the pickle declares it.
    let count: Int
}

/// A tensor as `_rebuild_tensor_v2` describes it: a strided view of a storage.
struct TorchTensor: Equatable {
    let storage: TorchStorage
    /// Offset of the first element, in elements.
    let offset: Int
    let shape: [Int]
    /// Strides in elements.
    let strides: [Int]

    /// Whether the view is dense row-major, so its elements are one run of the storage.
    var isContiguous: Bool {
        var expected = 1
        for (size, stride) in zip(shape, strides).reversed() where size != 1 {
            guard stride == expected else { return false }
            expected *= size
        }
        return true
    }
}
