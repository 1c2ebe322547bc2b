/// Everything that can be wrong with a safetensors file or with a tensor asked of it.
///
/// Each case names what a user needs to find the problem: the file, the key, the offsets.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened, read or mapped.
    case unreadable(path: String, reason: String)
    /// The file is shorter than its 8-byte header length, or than the header it announces.
    case truncated(path: String, expected: Int, actual: Int)
    /// The JSON header is not valid, or an entry in it is malformed.
    case invalidHeader(path: String, reason: String)
    /// An entry's byte range lies outside the data section, overlaps another, or has the
    /// wrong length for its dtype and shape.
    case invalidOffsets(path: String, tensor: String, reason: String)
    /// A tensor the caller needs is not in the file.
    case missingTensor(String)
    /// A tensor has another shape than the caller needs.
    case shapeMismatch(String, expected: [Int], found: [Int])
    /// A tensor's element type cannot be converted to fp32.
    case unsupportedDType(String, SafeTensorsDType)
    /// Writing a file failed.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            "cannot read safetensors file \(path): \(reason)"
        case let .truncated(path, expected, actual):
            "safetensors file \(path) is truncated: needs at least \(expected) bytes, has \(actual)"
        case let .invalidHeader(path, reason):
            "safetensors file \(path) has an invalid header: \(reason)"
        case let .invalidOffsets(path, tensor, reason):
            "safetensors file \(path): tensor '\(tensor)' has invalid data offsets: \(reason)"
        case let .missingTensor(name):
            "tensor '\(name)' is missing"
        case let .shapeMismatch(name, expected, found):
            "tensor '\(name)' has shape \(found), expected \(expected)"
        case let .unsupportedDType(name, dtype):
            "tensor '\(name)' has dtype \(dtype.rawValue), which cannot be read as fp32"
        case let .writeFailed(path, reason):
            "cannot write safetensors file \(path): \(reason)"
        }
    }
}
