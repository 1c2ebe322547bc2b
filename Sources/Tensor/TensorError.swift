import CDNNL

/// Why a tensor operation could not run.
public enum TensorError: Error, CustomStringConvertible, Equatable {
    /// A shape and the number of scalars supplied for it disagree.
    case scalarCountMismatch(shape: [Int], scalarCount: Int)
    /// An operand's shape does not fit the operation.
    case shapeMismatch(operation: String, detail: String)
    /// A kernel was given a tensor with no elements.
    case emptyOperand(shape: [Int])
    /// oneDNN refused or failed the operation; `status` is its status name.
    case dnnl(operation: String, status: String)

    public var description: String {
        switch self {
        case let .scalarCountMismatch(shape, scalarCount):
            return "shape \(shape) holds \(shape.reduce(1, *)) scalars but \(scalarCount) were given"
        case let .shapeMismatch(operation, detail):
            return "\(operation): \(detail)"
        case let .emptyOperand(shape):
            return "a tensor of shape \(shape) has no elements to compute on"
        case let .dnnl(operation, status):
            return "oneDNN could not run \(operation): \(status)"
        }
    }
}

/// Turns a oneDNN status into a `TensorError` naming the operation, so a failure deep in
/// the library still says what the caller was doing.
func dnnlCheck(_ status: dnnl_status_t, _ operation: @autoclosure () -> String) throws(TensorError) {
    guard status != dnnl_success else { return }
    throw TensorError.dnnl(operation: operation(), status: dnnlStatusName(status))
}

private func dnnlStatusName(_ status: dnnl_status_t) -> String {
    switch status {
    case dnnl_out_of_memory: return "out of memory"
    case dnnl_invalid_arguments: return "invalid arguments (shapes, strides or layouts it does not accept)"
    case dnnl_unimplemented: return "no implementation for this combination of shapes, layouts and post-ops"
    case dnnl_runtime_error: return "runtime error"
    default: return "status \(status.rawValue)"
    }
}
