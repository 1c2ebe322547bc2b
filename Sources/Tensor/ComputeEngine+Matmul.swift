import CDNNL

extension ComputeEngine {
    /// `output = scale · (a · b) + addend`, batched over the leading dimensions.
    ///
    /// `a` is `[…, M, K]`, `b` is `[…, K, N]` and `output` is `[…, M, N]` (rank 2 to 4, batch
    /// dimensions equal). All three are strided views, so attention reads the query, key and
    /// value heads in place from the fused projection output (the key through `transposed`)
    /// and writes each head's result straight into its columns of the concatenated output.
    /// `addend` (an additive attention mask) may have size 1 in any dimension to broadcast.
    /// The scale is oneDNN's output scale and the addend a binary post-op, both fused.
    public func matmul(
        _ a: TensorView, _ b: TensorView, into output: TensorView, scale: Float = 1, addend: TensorView? = nil
    ) throws(TensorError) {
        let rank = output.rank
        guard Self.matmulShapesAgree(a.shape, b.shape, output.shape) else {
            throw TensorError.shapeMismatch(operation: "matmul", detail: "\(a.shape) · \(b.shape) into \(output.shape)")
        }
        if let addend {
            guard addend.rank == rank, zip(addend.shape, output.shape).allSatisfy({ $0 == $1 || $0 == 1 }) else {
                throw TensorError.shapeMismatch(
                    operation: "matmul", detail: "addend \(addend.shape) does not broadcast to \(output.shape)")
            }
        }
        let key = PrimitiveKey.matmul(
            a: a.layout, b: b.layout, output: output.layout, scaleBits: scale.bitPattern, addend: addend?.layout)
        var handles = [a.rawBase, b.rawBase, output.rawBase]
        if let addend { handles.append(addend.rawBase) }

        try execute(key, operation: "matmul \(a.shape)·\(b.shape)", handles: handles) { (engine) throws(TensorError) in
            var operation = dnnl_matmul_desc_t()
            try dnnlCheck(
                dnnl_matmul_desc_init(
                    &operation, [try a.layout.descriptor()], [try b.layout.descriptor()], nil, [try output.layout.descriptor()]),
                "describing a matmul")
            let attributes = try PrimitiveAttributes()
            if scale != 1 { try attributes.setOutputScale(scale) }
            var kinds = [Int32(DNNL_ARG_SRC), Int32(DNNL_ARG_WEIGHTS), Int32(DNNL_ARG_DST)]
            if let addend {
                kinds.append(try attributes.appendBinary(dnnl_binary_add, operand: try addend.layout.descriptor()))
            }
            let descriptor = try createPrimitiveDescriptor(&operation, attributes: attributes, engine: engine, name: "matmul")
            return (descriptor, kinds)
        }
    }

    /// Whether `a · b` into `output` is a batched matmul `[…, M, K] · […, K, N] → […, M, N]`
    /// of rank 2 to 4 with equal batch dimensions.
    static func matmulShapesAgree(_ a: [Int], _ b: [Int], _ output: [Int]) -> Bool {
        let rank = output.count
        return (2...4).contains(rank) && a.count == rank && b.count == rank
            && a.dropLast(2) == output.dropLast(2) && b.dropLast(2) == output.dropLast(2)
            && a[rank - 2] == output[rank - 2] && b[rank - 1] == output[rank - 1] && a[rank - 1] == b[rank - 2]
    }
}
