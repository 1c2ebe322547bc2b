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
                let staging = try Self.stageInBF16(input, as: staged, in: runtime)
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

    /// `linear` of bf16 layers that read the same dense bf16 `[rows, in]` input at `input`
    /// (written by ``layerNorm(_:_:intoBF16:)``), each with its result written as dense bf16
    /// `[rows, out]` at its `output`: the fp32 sums, bias and epilogue as `linear` computes
    /// them, rounded once to bf16 (to nearest even) as they are stored, so the bytes equal
    /// `linear`'s fp32 output converted to bf16, without the fp32 round trip through memory.
    /// For layers read only by another bf16 layer (attention's q, k and v; fc1, read by fc2
    /// through ``linear(bf16Input:rows:_:into:epilogue:)``). `.residualAdd` is not offered:
    /// the residual stream stays fp32.
    public func linearsToBF16(
        bf16Input input: UnsafeMutableRawPointer, rows: Int, _ layers: [(weights: LinearWeights, output: UnsafeMutableRawPointer)],
        epilogue: LinearEpilogue = .none
    ) throws(TensorError) {
        let inFeatures = layers.first?.weights.inFeatures ?? 0
        guard rows > 0, !layers.isEmpty, epilogue != .residualAdd,
            layers.allSatisfy({ $0.weights.precision == .bf16 && $0.weights.inFeatures == inFeatures })
        else {
            throw TensorError.shapeMismatch(
                operation: "linearToBF16",
                detail: "\(rows)×\(inFeatures) input for \(layers.map { "\($0.weights.precision) \($0.weights.inFeatures)→\($0.weights.outFeatures)" }), \(epilogue)")
        }
        let staged = StridedLayout(shape: [rows, inFeatures], strides: [inFeatures, 1])
        try withRuntime { (runtime) throws(TensorError) in
            for (weights, output) in layers {
                let written = StridedLayout(shape: [rows, weights.outFeatures], strides: [weights.outFeatures, 1])
                try runtime.run(
                    .linearToBF16(input: staged, weights: weights.format, hasBias: weights.hasBias, output: written, epilogue: epilogue),
                    operation: Self.linearName(rows: rows, weights: weights, epilogue: epilogue) + " to bf16",
                    handles: Self.linearHandles(input: input, weights: weights, output: output)
                ) { (engine) throws(TensorError) in
                    try Self.describeLinear(
                        input: staged, weights: weights, output: written, outputType: dnnl_bf16, epilogue: epilogue, engine: engine)
                }
            }
        }
    }

    /// `linear` of a bf16 layer whose input is already dense bf16 `[rows, in]` at `input`
    /// (written by ``linearsToBF16(bf16Input:rows:_:epilogue:)``): the same matmul `linear` runs
    /// after converting an fp32 input, without the conversion.
    public func linear(
        bf16Input input: UnsafeMutableRawPointer, rows: Int, _ weights: LinearWeights, into output: TensorView,
        epilogue: LinearEpilogue = .none
    ) throws(TensorError) {
        guard weights.precision == .bf16, rows > 0, output.rank == 2, output.shape == [rows, weights.outFeatures] else {
            throw TensorError.shapeMismatch(
                operation: "linear",
                detail: "\(rows) bf16 rows into \(output.shape) for \(weights.precision) weights \(weights.inFeatures)→\(weights.outFeatures)")
        }
        let staged = StridedLayout(shape: [rows, weights.inFeatures], strides: [weights.inFeatures, 1])
        try execute(
            .linear(input: staged, weights: weights.format, hasBias: weights.hasBias, output: output.layout, epilogue: epilogue),
            operation: Self.linearName(rows: rows, weights: weights, epilogue: epilogue),
            handles: Self.linearHandles(input: input, weights: weights, output: output.rawBase)
        ) { (engine) throws(TensorError) in
            try Self.describeLinear(input: staged, weights: weights, output: output.layout, epilogue: epilogue, engine: engine)
        }
    }

    /// Converts `input` to bf16 (round to nearest even, oneDNN's reorder) into `runtime`'s
    /// staging buffer, laid out as `staged`; returns the buffer. The caller holds the lock
    /// until it has run the matmul that reads it.
    private static func stageInBF16(
        _ input: TensorView, as staged: StridedLayout, in runtime: Runtime
    ) throws(TensorError) -> UnsafeMutableRawPointer {
        let staging = runtime.staging(bytes: staged.shape.reduce(1, *) * WeightPrecision.bf16.scalarBytes)
        try runtime.run(
            .convertToBF16(source: input.layout), operation: "convert \(input.shape) to bf16",
            handles: [input.rawBase, staging]
        ) { (engine) throws(TensorError) in
            try describeConversion(from: input.layout, to: staged, engine: engine)
        }
        return staging
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

    /// The matmul of a linear layer: `input` in the weights' data type, fp32 bias, and output
    /// in `outputType` (fp32 unless a bf16 layer writes bf16).
    static func describeLinear(
        input: StridedLayout, weights: LinearWeights, output: StridedLayout, outputType: dnnl_data_type_t = dnnl_f32,
        epilogue: LinearEpilogue, engine: dnnl_engine_t
    ) throws(TensorError) -> (dnnl_primitive_desc_t, [Int32]) {
        let inputDescriptor = try input.descriptor(weights.precision.dataType)
        let outputDescriptor = try output.descriptor(outputType)
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
