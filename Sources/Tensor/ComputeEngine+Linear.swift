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
        switch weights.precision {
        case .fp32:
            try execute(
                .linear(input: input.layout, weights: weights.format, hasBias: weights.hasBias, output: output.layout, epilogue: epilogue),
                operation: Self.linearName(rows: input.shape[0], weights: weights, epilogue: epilogue),
                handles: Self.linearHandles(input: input.rawBase, weights: weights, output: output.rawBase)
            ) { (engine) throws(TensorError) in
                try Self.describeLinear(input: input.layout, weights: weights, output: output.layout, epilogue: epilogue, engine: engine)
            }
        case .bf16:
            // The matmul takes bf16 operands: convert the input into the staging buffer
            // (round to nearest even, oneDNN's reorder), then multiply from there, both under
            // one hold of the lock so no other kernel can reuse the buffer in between.
            let rows = input.shape[0]
            let staged = StridedLayout(shape: [rows, weights.inFeatures], strides: [weights.inFeatures, 1])
            try withRuntime { (runtime) throws(TensorError) in
                let staging = runtime.staging(bytes: rows * weights.inFeatures * WeightPrecision.bf16.scalarBytes)
                try runtime.run(
                    .convertToBF16(source: input.layout), operation: "convert \(input.shape) to bf16",
                    handles: [input.rawBase, staging]
                ) { (engine) throws(TensorError) in
                    try Self.describeConversion(from: input.layout, to: staged, engine: engine)
                }
                try runtime.run(
                    .linear(input: staged, weights: weights.format, hasBias: weights.hasBias, output: output.layout, epilogue: epilogue),
                    operation: Self.linearName(rows: rows, weights: weights, epilogue: epilogue),
                    handles: Self.linearHandles(input: staging, weights: weights, output: output.rawBase)
                ) { (engine) throws(TensorError) in
                    try Self.describeLinear(input: staged, weights: weights, output: output.layout, epilogue: epilogue, engine: engine)
                }
            }
        }
    }

    static func linearName(rows: Int, weights: LinearWeights, epilogue: LinearEpilogue) -> String {
        "linear \(rows)×\(weights.inFeatures)→\(weights.outFeatures) \(epilogue)\(weights.precision == .fp32 ? "" : " \(weights.precision)")"
    }

    static func linearHandles(
        input: UnsafeMutableRawPointer, weights: LinearWeights, output: UnsafeMutableRawPointer
    ) -> [UnsafeMutableRawPointer] {
        var handles = [input, weights.packed.rawBase]
        if let bias = weights.bias { handles.append(bias.rawBase) }
        handles.append(output)
        return handles
    }

    /// A reorder from fp32 `source` to dense bf16 `destination`.
    static func describeConversion(
        from source: StridedLayout, to destination: StridedLayout, engine: dnnl_engine_t
    ) throws(TensorError) -> (dnnl_primitive_desc_t, [Int32]) {
        let sourceDescriptor = try source.descriptor()
        let destinationDescriptor = try destination.descriptor(dnnl_bf16)
        let attributes = try PrimitiveAttributes()
        var descriptor: dnnl_primitive_desc_t?
        try dnnlCheck(
            dnnl_reorder_primitive_desc_create(
                &descriptor, [sourceDescriptor], engine, [destinationDescriptor], engine, attributes.handle),
            "describing an fp32 → bf16 conversion")
        guard let descriptor else { throw TensorError.dnnl(operation: "converting to bf16", status: "no reorder") }
        return (descriptor, [Int32(DNNL_ARG_FROM), Int32(DNNL_ARG_TO)])
    }

    /// The matmul of a linear layer: `input` in the weights' data type, fp32 bias and output.
    static func describeLinear(
        input: StridedLayout, weights: LinearWeights, output: StridedLayout, epilogue: LinearEpilogue, engine: dnnl_engine_t
    ) throws(TensorError) -> (dnnl_primitive_desc_t, [Int32]) {
        let inputDescriptor = try input.descriptor(weights.precision.dataType)
        let outputDescriptor = try output.descriptor()
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
