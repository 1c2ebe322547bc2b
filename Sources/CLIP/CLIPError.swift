import Tensor

/// Why a CLIP tower could not be loaded or run.
public enum CLIPError: Error, CustomStringConvertible {
    /// A weight is missing, mis-shaped or unreadable; the underlying error names the key.
    case weights(SafeTensorsError)
    /// A kernel failed (an internal shape or oneDNN error).
    case kernel(TensorError)
    /// The image tensor does not have the shape the vision tower takes.
    case imageShape(expected: [Int], found: [Int])
    /// A requested tap is not a block number of the tower.
    case tapLayer(Int, layers: Int)
    /// A row of token ids cannot be encoded.
    case tokens(row: Int, reason: String)

    public var description: String {
        switch self {
        case let .weights(error):
            return "model weights: \(error)"
        case let .kernel(error):
            return "tensor kernel failed: \(error)"
        case let .imageShape(expected, found):
            return "the vision tower takes a normalised image of shape \(expected), got \(found)"
        case let .tapLayer(layer, layers):
            return "tap layer \(layer) is not a block number in 1...\(layers)"
        case let .tokens(row, reason):
            return "token row \(row): \(reason)"
        }
    }
}

/// Runs `body`, reporting a kernel failure as a `CLIPError`.
func kernel<R>(_ body: () throws(TensorError) -> R) throws(CLIPError) -> R {
    do {
        return try body()
    } catch {
        throw .kernel(error)
    }
}
