import CDNNL

extension ComputeEngine {
    /// `output = scale · (a · b)` for bf16 operands, batched over the leading dimensions: the
    /// products of bf16 values are exact in fp32 and are summed in fp32 (oneDNN matmul with
    /// bf16 source and weights, f32 destination); the scale is applied once to each fp32 sum.
    ///
    /// Shapes as for the fp32 ``matmul(_:_:into:scale:addend:)``; attention in bf16 mode
    /// reads its query and key heads in place from a projection written in bf16.
    public func matmul(_ a: BF16View, _ b: BF16View, into output: TensorView, scale: Float = 1) throws(TensorError) {
        try bf16Matmul(a, b, output: output.layout, outputBase: output.rawBase, outputIsBF16: false, scale: scale)
    }

    /// ``matmul(_:_:into:scale:)`` with each fp32 result rounded once to bf16 (to nearest
    /// even) as it is stored: the bytes of the fp32 result converted to bf16, for a product
    /// read only by a bf16 layer (attention's output, read by `out_proj`).
    public func matmul(_ a: BF16View, _ b: BF16View, intoBF16 output: BF16View, scale: Float = 1) throws(TensorError) {
        try bf16Matmul(a, b, output: output.layout, outputBase: output.base, outputIsBF16: true, scale: scale)
    }

    private func bf16Matmul(
        _ a: BF16View, _ b: BF16View, output: StridedLayout, outputBase: UnsafeMutableRawPointer, outputIsBF16: Bool,
        scale: Float
    ) throws(TensorError) {
        guard Self.matmulShapesAgree(a.shape, b.shape, output.shape) else {
            throw TensorError.shapeMismatch(operation: "bf16 matmul", detail: "\(a.shape) · \(b.shape) into \(output.shape)")
        }
        let key = PrimitiveKey.bf16Matmul(
            a: a.layout, b: b.layout, output: output, outputIsBF16: outputIsBF16, scaleBits: scale.bitPattern)
        try execute(
            key, operation: "matmul \(a.shape)·\(b.shape) bf16\(outputIsBF16 ? " to bf16" : "")",
            handles: [a.base, b.base, outputBase]
        ) { (engine) throws(TensorError) in
            var operation = dnnl_matmul_desc_t()
            try dnnlCheck(
                dnnl_matmul_desc_init(
                    &operation, [try a.layout.descriptor(dnnl_bf16)], [try b.layout.descriptor(dnnl_bf16)], nil,
                    [try output.descriptor(outputIsBF16 ? dnnl_bf16 : dnnl_f32)]),
                "describing a bf16 matmul")
            let attributes = try PrimitiveAttributes()
            if scale != 1 { try attributes.setOutputScale(scale) }
            let descriptor = try createPrimitiveDescriptor(&operation, attributes: attributes, engine: engine, name: "bf16 matmul")
            return (descriptor, [DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST].map { Int32($0) })
        }
    }
}
