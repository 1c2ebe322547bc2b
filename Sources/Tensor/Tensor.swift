/// A dense fp32 tensor: a shape and its scalars in row-major order.
///
/// A plain value (copy-on-write through its array). Kernels that must not allocate work on
/// `TensorView`s over storage they own; this type is what modules hand to each other.
public struct Tensor: Sendable, Equatable {
    /// The size of each dimension, outermost first.
    public private(set) var shape: [Int]
    /// The scalars, row-major; `scalars.count == shape.reduce(1, *)`.
    public private(set) var scalars: [Float]

    /// A tensor of the given shape holding `scalars` (row-major).
    public init(shape: [Int], scalars: [Float]) throws(TensorError) {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == scalars.count else {
            throw TensorError.scalarCountMismatch(shape: shape, scalarCount: scalars.count)
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor whose caller has already matched `scalars.count` to `shape`.
    init(validatedShape shape: [Int], scalars: [Float]) {
        self.shape = shape
        self.scalars = scalars
    }

    /// A zero-filled tensor of the given shape (dimensions must not be negative).
    public init(zeros shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.scalars = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// A tensor whose scalars `fill` writes; the buffer starts zeroed.
    public init(shape: [Int], fill: (inout UnsafeMutableBufferPointer<Float>) throws(TensorError) -> Void) throws(TensorError) {
        self.init(zeros: shape)
        try withUnsafeMutableBufferPointer(fill)
    }

    /// The number of scalars.
    public var count: Int { scalars.count }

    /// The same scalars under another shape with the same number of elements.
    public func reshaped(to newShape: [Int]) throws(TensorError) -> Tensor {
        try Tensor(shape: newShape, scalars: scalars)
    }

    /// Rows `range` of a tensor of rank ≥ 1 (along its first dimension).
    public func rows(_ range: Range<Int>) throws(TensorError) -> Tensor {
        guard let outer = shape.first, range.lowerBound >= 0, range.upperBound <= outer else {
            throw TensorError.shapeMismatch(operation: "rows", detail: "rows \(range) of a tensor of shape \(shape)")
        }
        let rowSize = shape.dropFirst().reduce(1, *)
        let slice = scalars[(range.lowerBound * rowSize)..<(range.upperBound * rowSize)]
        return try Tensor(shape: [range.count] + shape.dropFirst(), scalars: Array(slice))
    }

    /// Calls `body` with the scalars' storage.
    public func withUnsafeBufferPointer<R, E: Error>(_ body: (UnsafeBufferPointer<Float>) throws(E) -> R) throws(E) -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with mutable access to the scalars' storage (the shape cannot change).
    public mutating func withUnsafeMutableBufferPointer<R, E: Error>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws(E) -> R
    ) throws(E) -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }

    /// The largest absolute difference to `other` (same shape), for parity checks.
    public func maxAbsoluteDifference(to other: Tensor) throws(TensorError) -> Float {
        guard shape == other.shape else {
            throw TensorError.shapeMismatch(operation: "maxAbsoluteDifference", detail: "shapes \(shape) and \(other.shape)")
        }
        var largest: Float = 0
        for index in scalars.indices {
            largest = max(largest, abs(scalars[index] - other.scalars[index]))
        }
        return largest
    }

    /// The largest absolute scalar (0 for an empty tensor).
    public var maxAbsoluteValue: Float {
        scalars.reduce(0) { max($0, abs($1)) }
    }
}
