import CDNNL

extension ComputeEngine {
    /// `output = (x − mean) / sqrt(var + ε) · scale + shift` over the last dimension of a
    /// `[rows, channels]` view, statistics in fp32 (oneDNN `layer_normalization`).
    /// `output` may be `input` itself.
    public func layerNorm(_ input: TensorView, _ weights: LayerNormWeights, into output: TensorView) throws(TensorError) {
        guard input.rank == 2, input.shape == output.shape, input.shape[1] == weights.channels else {
            throw TensorError.shapeMismatch(
                operation: "layerNorm",
                detail: "input \(input.shape), output \(output.shape), \(weights.channels) channels")
        }
        let key = PrimitiveKey.layerNorm(input: input.layout, output: output.layout, epsilonBits: weights.epsilon.bitPattern)
        let handles = [input.rawBase, weights.scale.rawBase, weights.shift.rawBase, output.rawBase]
        try execute(key, operation: "layerNorm \(input.shape)", handles: handles) { (engine) throws(TensorError) in
            guard input.layout == output.layout else {
                throw TensorError.shapeMismatch(operation: "layerNorm", detail: "input and output must share a layout")
            }
            var operation = dnnl_layer_normalization_desc_t()
            let flags = dnnl_use_scale.rawValue | dnnl_use_shift.rawValue
            try dnnlCheck(
                dnnl_layer_normalization_forward_desc_init(
                    &operation, dnnl_forward_inference, [try input.layout.descriptor()], nil, weights.epsilon, flags),
                "describing a LayerNorm")
            let descriptor = try createPrimitiveDescriptor(
                &operation, attributes: try PrimitiveAttributes(), engine: engine, name: "layerNorm")
            return (descriptor, [DNNL_ARG_SRC, DNNL_ARG_SCALE, DNNL_ARG_SHIFT, DNNL_ARG_DST].map { Int32($0) })
        }
    }

    /// Divides each row of a `[rows, columns]` view by its Euclidean norm (floored at 1e-12,
    /// as PyTorch's `F.normalize` does, so an all-zero row stays zero instead of becoming NaN).
    ///
    /// Three oneDNN kernels: squares (eltwise), their row sums with `sqrt` and the floor fused
    /// as post-ops (a jitted sum reduction: oneDNN's Lp-norm reductions only have a reference
    /// implementation, about a hundred times slower), and a broadcast division.
    public func l2NormalizeRows(_ input: TensorView, into output: TensorView) throws(TensorError) {
        guard input.rank == 2, input.shape == output.shape else {
            throw TensorError.shapeMismatch(operation: "l2NormalizeRows", detail: "input \(input.shape), output \(output.shape)")
        }
        let rows = input.shape[0]
        let squares = AlignedFloats(count: input.elementCount)
        let squaresView = TensorView(squares.base, shape: input.shape)
        try eltwise(dnnl_eltwise_square, named: "square", input, into: squaresView)

        let norms = AlignedFloats(count: rows)
        let normsLayout = StridedLayout(shape: [rows, 1], strides: [1, 1])
        try execute(
            .rowNorms(input: squaresView.layout, output: normsLayout), operation: "row norms \(input.shape)",
            handles: [squares.rawBase, norms.rawBase]
        ) { (engine) throws(TensorError) in
            var operation = dnnl_reduction_desc_t()
            try dnnlCheck(
                dnnl_reduction_desc_init(
                    &operation, dnnl_reduction_sum, [try squaresView.layout.descriptor()], [try normsLayout.descriptor()], 0, 0),
                "describing a row-sum reduction")
            let attributes = try PrimitiveAttributes()
            try attributes.appendEltwise(dnnl_eltwise_sqrt)
            try attributes.appendEltwise(dnnl_eltwise_clip, alpha: 1e-12, beta: .greatestFiniteMagnitude)
            let descriptor = try createPrimitiveDescriptor(&operation, attributes: attributes, engine: engine, name: "row norms")
            return (descriptor, [DNNL_ARG_SRC, DNNL_ARG_DST].map { Int32($0) })
        }
        try binary(dnnl_binary_div, input, TensorView(norms.base, shape: [rows, 1], strides: [1, 1]), into: output)
    }

    /// Softmax along the last dimension (oneDNN `softmax_v2`, accurate: max subtracted first).
    /// `output` may be `input` itself.
    public func softmax(_ input: TensorView, into output: TensorView) throws(TensorError) {
        guard input.rank >= 1, input.shape == output.shape else {
            throw TensorError.shapeMismatch(operation: "softmax", detail: "input \(input.shape), output \(output.shape)")
        }
        let key = PrimitiveKey.softmax(input: input.layout, output: output.layout)
        try execute(key, operation: "softmax \(input.shape)", handles: [input.rawBase, output.rawBase]) {
            (engine) throws(TensorError) in
            var operation = dnnl_softmax_v2_desc_t()
            try dnnlCheck(
                dnnl_softmax_v2_forward_desc_init(
                    &operation, dnnl_forward_inference, dnnl_softmax_accurate, [try input.layout.descriptor()],
                    [try output.layout.descriptor()], Int32(input.rank - 1)),
                "describing a softmax")
            let descriptor = try createPrimitiveDescriptor(
                &operation, attributes: try PrimitiveAttributes(), engine: engine, name: "softmax")
            return (descriptor, [DNNL_ARG_SRC, DNNL_ARG_DST].map { Int32($0) })
        }
    }
}
