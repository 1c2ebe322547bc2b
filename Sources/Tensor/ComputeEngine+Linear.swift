import CDNNL

/// What a `linear` layer does to its result before storing it, fused into the matmul.
public enum LinearEpilogue: Hashable, Sendable {
    /// `output = x·Wᵀ + b`.
    case none
    /// `output = GELU(x·Wᵀ + b)`, the exact erf form.
    case gelu
    /// `output += x·Wᵀ + b`: the residual connection, accumulated in place.
    case residualAdd
}

extension ComputeEngine {
    /// `output = epilogue(input · Wᵀ + b)` for an `[rows, in]` input and `[rows, out]` output.
    ///
    /// Bias, GELU and the residual sum are fused into oneDNN's matmul (bias argument,
    /// `eltwise_gelu_erf` and `sum` post-ops); the weights stay in their packed layout.
    public func linear(
        _ input: TensorView, _ weights: LinearWeights, into output: TensorView, epilogue: LinearEpilogue = .none
    ) throws(TensorError) {
        guard input.rank == 2, output.rank == 2, input.shape[1] == weights.inFeatures,
            output.shape[1] == weights.outFeatures, input.shape[0] == output.shape[0]
        else {
            throw TensorError.shapeMismatch(
                operation: "linear",
                detail: "input \(input.shape) and output \(output.shape) for weights \(weights.inFeatures)→\(weights.outFeatures)")
        }
        let key = PrimitiveKey.linear(
            input: input.layout, weights: weights.format, hasBias: weights.hasBias, output: output.layout, epilogue: epilogue)
        var handles = [input.rawBase, weights.packed.rawBase]
        if let bias = weights.bias { handles.append(bias.rawBase) }
        handles.append(output.rawBase)

        try execute(
            key, operation: "linear \(input.shape[0])×\(weights.inFeatures)→\(weights.outFeatures) \(epilogue)",
            handles: handles
        ) { (engine) throws(TensorError) in
            let inputDescriptor = try input.layout.descriptor()
            let outputDescriptor = try output.layout.descriptor()
            var biasDescriptor = dnnl_memory_desc_t()
            if weights.hasBias {
                biasDescriptor = try StridedLayout(shape: [1, weights.outFeatures], strides: [weights.outFeatures, 1]).descriptor()
            }
            var operation = dnnl_matmul_desc_t()
            try dnnlCheck(
                dnnl_matmul_desc_init(
                    &operation, [inputDescriptor], [weights.packedDescriptor], weights.hasBias ? [biasDescriptor] : nil,
                    [outputDescriptor]),
                "describing a linear layer")
            let attributes = try PrimitiveAttributes()
            switch epilogue {
            case .none: break
            case .gelu: try attributes.appendEltwise(dnnl_eltwise_gelu_erf)
            case .residualAdd: try attributes.appendSum()
            }
            let descriptor = try createPrimitiveDescriptor(&operation, attributes: attributes, engine: engine, name: "linear")
            var kinds = [DNNL_ARG_SRC, DNNL_ARG_WEIGHTS]
            if weights.hasBias { kinds.append(DNNL_ARG_BIAS) }
            kinds.append(DNNL_ARG_DST)
            return (descriptor, kinds.map { Int32($0) })
        }
    }
}
