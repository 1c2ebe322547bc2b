/// Value-level forms of the kernels: they take and return `Tensor`s and allocate their
/// results. Convenient for small work (prompt-set features, heads, tests); hot loops use the
/// `TensorView` forms on storage they own.
extension ComputeEngine {
    /// `epilogue(input · Wᵀ + b)` for `input` of shape `[rows, in]`; with `.residualAdd` the
    /// result is added onto `residual` (`[rows, out]`).
    public func linear(
        _ input: Tensor, _ weights: LinearWeights, epilogue: LinearEpilogue = .none, residual: Tensor? = nil
    ) throws(TensorError) -> Tensor {
        guard input.shape.count == 2 else {
            throw TensorError.shapeMismatch(operation: "linear", detail: "input of shape \(input.shape) is not a matrix")
        }
        let outputShape = [input.shape[0], weights.outFeatures]
        var output = Tensor(zeros: outputShape)
        if epilogue == .residualAdd {
            guard let residual, residual.shape == outputShape else {
                throw TensorError.shapeMismatch(
                    operation: "linear", detail: "a residual add needs a residual of shape \(outputShape)")
            }
            output = residual
        }
        try input.withView { (inputView) throws(TensorError) in
            try output.withMutableView { (outputView) throws(TensorError) in
                try linear(inputView, weights, into: outputView, epilogue: epilogue)
            }
        }
        return output
    }

    /// `scale · (a · b)` (or `a · bᵀ` when `transposingB`), for matrices or batches of them
    /// (rank 2 or 3, batch sizes equal).
    public func matmul(_ a: Tensor, _ b: Tensor, transposingB: Bool = false, scale: Float = 1) throws(TensorError) -> Tensor {
        guard a.shape.count == b.shape.count, (2...3).contains(a.shape.count) else {
            throw TensorError.shapeMismatch(operation: "matmul", detail: "shapes \(a.shape) and \(b.shape)")
        }
        let columns = transposingB ? b.shape[b.shape.count - 2] : b.shape[b.shape.count - 1]
        var output = Tensor(zeros: a.shape.dropLast() + [columns])
        try a.withView { (aView) throws(TensorError) in
            try b.withView { (bView) throws(TensorError) in
                try output.withMutableView { (outputView) throws(TensorError) in
                    try matmul(aView, transposingB ? bView.transposed : bView, into: outputView, scale: scale)
                }
            }
        }
        return output
    }

    /// LayerNorm over the last dimension of a `[rows, channels]` tensor.
    public func layerNorm(_ input: Tensor, _ weights: LayerNormWeights) throws(TensorError) -> Tensor {
        try unary(input) { (source, destination) throws(TensorError) in try layerNorm(source, weights, into: destination) }
    }

    /// Each row of a `[rows, columns]` tensor divided by its Euclidean norm.
    public func l2NormalizedRows(_ input: Tensor) throws(TensorError) -> Tensor {
        try unary(input) { (source, destination) throws(TensorError) in try l2NormalizeRows(source, into: destination) }
    }

    /// Softmax along the last dimension.
    public func softmax(_ input: Tensor) throws(TensorError) -> Tensor {
        try unary(input) { (source, destination) throws(TensorError) in try softmax(source, into: destination) }
    }

    /// Exact (erf) GELU of every element.
    public func gelu(_ input: Tensor) throws(TensorError) -> Tensor {
        try unary(input) { (source, destination) throws(TensorError) in try gelu(source, into: destination) }
    }

    /// `a + b`, where `b` has the rank of `a` and may have size 1 in any dimension to broadcast.
    public func add(_ a: Tensor, _ b: Tensor) throws(TensorError) -> Tensor {
        try unary(a) { (source, destination) throws(TensorError) in
            try b.withView { (bView) throws(TensorError) in try add(source, bView, into: destination) }
        }
    }

    private func unary(
        _ input: Tensor, _ kernel: (TensorView, TensorView) throws(TensorError) -> Void
    ) throws(TensorError) -> Tensor {
        var output = Tensor(zeros: input.shape)
        try input.withView { (inputView) throws(TensorError) in
            try output.withMutableView { (outputView) throws(TensorError) in try kernel(inputView, outputView) }
        }
        return output
    }
}

extension Tensor {
    /// Calls `body` with a contiguous view of the scalars for a kernel to read. The kernels
    /// never write through an input view, so borrowing the array's storage is safe.
    func withView<R>(_ body: (TensorView) throws(TensorError) -> R) throws(TensorError) -> R {
        let shape = self.shape
        return try withUnsafeBufferPointer { (buffer) throws(TensorError) -> R in
            guard let base = buffer.baseAddress, !buffer.isEmpty else { throw TensorError.emptyOperand(shape: shape) }
            return try body(TensorView(UnsafeMutablePointer(mutating: base), shape: shape))
        }
    }

    /// Calls `body` with a contiguous view of the scalars for a kernel to write.
    mutating func withMutableView<R>(_ body: (TensorView) throws(TensorError) -> R) throws(TensorError) -> R {
        let shape = self.shape
        return try withUnsafeMutableBufferPointer { (buffer) throws(TensorError) -> R in
            guard let base = buffer.baseAddress, !buffer.isEmpty else { throw TensorError.emptyOperand(shape: shape) }
            return try body(TensorView(base, shape: shape))
        }
    }
}
