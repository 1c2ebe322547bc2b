import CDNNL

/// How a weight matrix is laid out where it comes from.
public enum WeightOrientation: Sendable {
    /// `[out, in]`, row-major: PyTorch's `nn.Linear.weight`, attention projections, a
    /// flattened convolution kernel.
    case outputMajor
    /// `[in, out]`, row-major: CLIP's `proj` and `text_projection`.
    case inputMajor
}

/// The number format a matmul's weights are stored and multiplied in.
public enum WeightPrecision: String, Sendable, Hashable, CaseIterable {
    /// IEEE single precision throughout: the reference's arithmetic.
    case fp32
    /// Weights rounded once to bfloat16 (8 significant bits, round to nearest even) and
    /// each input converted the same way on its way into the matmul; products are
    /// accumulated, and bias, GELU and residual sums applied, in fp32. Several times faster
    /// where the CPU multiplies bf16 natively (AVX-512 BF16, AMX), at about 3 decimal
    /// digits of precision per matmul.
    case bf16

    /// The oneDNN data type of the matmul operands.
    var dataType: dnnl_data_type_t {
        switch self {
        case .fp32: dnnl_f32
        case .bf16: dnnl_bf16
        }
    }

    /// Bytes per stored scalar.
    public var scalarBytes: Int {
        switch self {
        case .fp32: 4
        case .bf16: 2
        }
    }
}

/// What determines the memory layout oneDNN picks for packed weights.
struct PackedFormat: Hashable, Sendable {
    var inFeatures: Int
    var outFeatures: Int
    var typicalRows: Int
    var precision: WeightPrecision
}

/// The weights (and optional bias) of `y = x·Wᵀ + b`, reordered once at load into the blocked
/// layout oneDNN's matmul prefers for this shape, so no execution ever reorders them again.
public struct LinearWeights: Sendable {
    /// Columns of the input (`in`).
    public let inFeatures: Int
    /// Columns of the output (`out`).
    public let outFeatures: Int
    /// The precision the weights are stored in.
    public var precision: WeightPrecision { format.precision }
    /// Whether a bias is added.
    public var hasBias: Bool { bias != nil }

    let format: PackedFormat
    let packedDescriptor: dnnl_memory_desc_t
    let packed: AlignedFloats
    let bias: AlignedFloats?
}

extension ComputeEngine {
    /// Packs a weight matrix for `linear`.
    ///
    /// - Parameters:
    ///   - weight: `inFeatures × outFeatures` scalars laid out as `orientation` says.
    ///   - bias: `outFeatures` scalars, or nil for no bias.
    ///   - typicalRows: the number of input rows the layer will usually see; oneDNN picks the
    ///     packed layout for that shape, and other row counts reuse it.
    public func packLinear(
        weight: [Float],
        orientation: WeightOrientation,
        inFeatures: Int,
        outFeatures: Int,
        bias: [Float]? = nil,
        typicalRows: Int,
        precision: WeightPrecision = .fp32
    ) throws(TensorError) -> LinearWeights {
        guard weight.count == inFeatures * outFeatures, !weight.isEmpty else {
            throw TensorError.shapeMismatch(
                operation: "packLinear",
                detail: "\(weight.count) weight scalars for \(outFeatures) outputs × \(inFeatures) inputs")
        }
        let packed = weight.withUnsafeBytes { (scalars) in
            Result { () throws(TensorError) in
                try packLinear(
                    weightAt: scalars.baseAddress!, orientation: orientation, inFeatures: inFeatures, outFeatures: outFeatures,
                    bias: bias, typicalRows: typicalRows, precision: precision)
            }
        }
        return try packed.get()
    }

    /// Packs the `inFeatures × outFeatures` fp32 scalars at `weights` (any alignment; only
    /// read) for `linear`, as ``packLinear(weight:orientation:inFeatures:outFeatures:bias:typicalRows:precision:)``
    /// does: for weights read in place from a mapped file, without a copy first.
    public func packLinear(
        weightAt weights: UnsafeRawPointer,
        orientation: WeightOrientation,
        inFeatures: Int,
        outFeatures: Int,
        bias: [Float]? = nil,
        typicalRows: Int,
        precision: WeightPrecision = .fp32
    ) throws(TensorError) -> LinearWeights {
        guard inFeatures > 0, outFeatures > 0, typicalRows > 0 else {
            throw TensorError.shapeMismatch(
                operation: "packLinear", detail: "\(outFeatures) outputs × \(inFeatures) inputs for \(typicalRows) rows")
        }
        if let bias, bias.count != outFeatures {
            throw TensorError.shapeMismatch(operation: "packLinear", detail: "\(bias.count) bias scalars for \(outFeatures) outputs")
        }
        let format = PackedFormat(
            inFeatures: inFeatures, outFeatures: outFeatures, typicalRows: typicalRows, precision: precision)
        let packedDescriptor = try preferredWeightsDescriptor(for: format)
        let packedBytes = dnnl_memory_desc_get_size([packedDescriptor])
        let packed = AlignedFloats(count: (packedBytes + MemoryLayout<Float>.stride - 1) / MemoryLayout<Float>.stride)

        // The matmul reads weights as a K×N matrix: [out, in] storage is its transpose.
        let sourceLayout = switch orientation {
        case .outputMajor: StridedLayout(shape: [inFeatures, outFeatures], strides: [1, inFeatures])
        case .inputMajor: StridedLayout(shape: [inFeatures, outFeatures], strides: [outFeatures, 1])
        }
        // Reordered straight from the caller's memory: oneDNN only reads its source, and any
        // alignment will do. An aligned copy first would touch every weight byte twice more
        // (zero-fill and copy into fresh pages), a fifth of the model's load time.
        try reorder(from: UnsafeMutableRawPointer(mutating: weights), layout: sourceLayout, to: packed.rawBase, descriptor: packedDescriptor)
        return LinearWeights(
            inFeatures: inFeatures, outFeatures: outFeatures, format: format, packedDescriptor: packedDescriptor,
            packed: packed, bias: bias.map(AlignedFloats.init))
    }

    /// The weight layout oneDNN's matmul implementation chooses for `format`
    /// (`format_tag_any` resolved by creating the primitive descriptor).
    private func preferredWeightsDescriptor(for format: PackedFormat) throws(TensorError) -> dnnl_memory_desc_t {
        try withEngine { (engine, _) throws(TensorError) in
            let rows = format.typicalRows
            let input = try StridedLayout(shape: [rows, format.inFeatures], strides: [format.inFeatures, 1])
                .descriptor(format.precision.dataType)
            let output = try StridedLayout(shape: [rows, format.outFeatures], strides: [format.outFeatures, 1]).descriptor()
            var weights = dnnl_memory_desc_t()
            try dnnlCheck(
                dnnl_memory_desc_init_by_tag(&weights, 2, [Int64(format.inFeatures), Int64(format.outFeatures)], format.precision.dataType,
                    dnnl_format_tag_any),
                "describing weights to pack")
            var operation = dnnl_matmul_desc_t()
            try dnnlCheck(dnnl_matmul_desc_init(&operation, [input], [weights], nil, [output]), "describing a matmul to pack for")
            let attributes = try PrimitiveAttributes()
            let descriptor = try createPrimitiveDescriptor(&operation, attributes: attributes, engine: engine, name: "matmul for packing")
            defer { dnnl_primitive_desc_destroy(descriptor) }
            guard let chosen = dnnl_primitive_desc_query_md(descriptor, dnnl_query_weights_md, 0) else {
                throw TensorError.dnnl(operation: "packing weights", status: "no weights layout")
            }
            return chosen.pointee
        }
    }

    /// Copies `source` (fp32, with `layout`) into memory described by `descriptor`, converting
    /// to its data type, with a one-off reorder primitive: load-time work, so it is not cached.
    private func reorder(
        from source: UnsafeMutableRawPointer, layout: StridedLayout, to destination: UnsafeMutableRawPointer,
        descriptor: dnnl_memory_desc_t
    ) throws(TensorError) {
        let sourceDescriptor = try layout.descriptor()
        try withEngine { (engine, stream) throws(TensorError) in
            var primitiveDescriptor: dnnl_primitive_desc_t?
            try dnnlCheck(
                dnnl_reorder_primitive_desc_create(&primitiveDescriptor, [sourceDescriptor], engine, [descriptor], engine, nil),
                "describing the weight reorder")
            guard let primitiveDescriptor else { throw TensorError.dnnl(operation: "packing weights", status: "no reorder") }
            let primitive = try PreparedPrimitive(
                descriptor: primitiveDescriptor, engine: engine, argumentKinds: [DNNL_ARG_FROM, DNNL_ARG_TO],
                operation: "packing weights")
            let scratchpad = AlignedFloats(count: (primitive.scratchpadBytes + 3) / 4)
            try primitive.execute(
                handles: [source, destination], scratchpad: scratchpad.rawBase, stream: stream, operation: "packing weights")
        }
    }
}
