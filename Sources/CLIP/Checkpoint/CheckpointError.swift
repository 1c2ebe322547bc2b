/// Why a PyTorch checkpoint cannot be read or converted. Each case names what it refused.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or mapped.
    case unreadable(path: String, reason: String)
    /// The file is not a zip archive (PyTorch ≥ 1.6 format); `detail` says what it looks like.
    case notZipArchive(detail: String)
    /// The zip structure is damaged: a record points outside the file, a signature is wrong.
    case corruptArchive(String)
    /// An entry is compressed or encrypted; `torch.save` only writes stored entries.
    case unsupportedEntry(name: String, reason: String)
    /// An entry's CRC-32 does not match its bytes.
    case checksumMismatch(name: String)
    /// The archive has no `data.pkl`, or an entry the pickle refers to.
    case missingEntry(String)
    /// The pickle uses an opcode outside the subset a tensor state_dict needs.
    case forbiddenOpcode(opcode: UInt8, offset: Int)
    /// The pickle names a global (a callable or class) outside the allowed set.
    case forbiddenGlobal(String)
    /// The pickle is malformed: stack underflow, missing mark, bad argument types, truncation.
    case malformedPickle(offset: Int, reason: String)
    /// A tensor's view reaches beyond its storage, or its storage entry is too short.
    case storageTooShort(tensor: String, needed: Int, available: Int)
    /// A tensor has an element type that cannot be converted to fp32.
    case unsupportedDType(tensor: String, dtype: String)
    /// The pickle holds no state_dict of tensors (bare or under `model_state`).
    case noStateDict(String)
    /// A tensor the model needs is missing.
    case missingTensor(String)
    /// A tensor the model needs has another shape.
    case shapeMismatch(String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "cannot read checkpoint \(path): \(reason)"
        case let .notZipArchive(detail): "not a PyTorch zip checkpoint (\(detail))"
        case let .corruptArchive(reason): "checkpoint archive is damaged: \(reason)"
        case let .unsupportedEntry(name, reason): "checkpoint entry \(name) is not supported: \(reason)"
        case let .checksumMismatch(name): "checkpoint entry \(name) fails its CRC-32 check"
        case let .missingEntry(name): "checkpoint archive has no entry \(name)"
        case let .forbiddenOpcode(opcode, offset):
            "checkpoint pickle uses opcode 0x\(String(opcode, radix: 16)) at byte \(offset), which a state_dict never needs; refused"
        case let .forbiddenGlobal(name): "checkpoint pickle refers to '\(name)', which is not allowed; refused"
        case let .malformedPickle(offset, reason): "checkpoint pickle is malformed at byte \(offset): \(reason)"
        case let .storageTooShort(tensor, needed, available):
            "tensor '\(tensor)' needs \(needed) bytes of its storage, which has \(available)"
        case let .unsupportedDType(tensor, dtype): "tensor '\(tensor)' has element type \(dtype), not a float type"
        case let .noStateDict(reason): "checkpoint holds no state_dict: \(reason)"
        case let .missingTensor(name): "checkpoint has no tensor '\(name)'"
        case let .shapeMismatch(name, expected, found): "checkpoint tensor '\(name)' has shape \(found), expected \(expected)"
        }
    }
}
