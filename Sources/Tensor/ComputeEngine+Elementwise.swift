import CDNNL

extension ComputeEngine {
    /// `output = GELU(input)`, the exact form `x/2 · (1 + erf(x/√2))` (oneDNN `eltwise_gelu_erf`).
    /// `output` may be `input` itself; both must share a layout.
    public func gelu(_ input: TensorView, into output: TensorView) throws(TensorError) {
        try eltwise(dnnl_eltwise_gelu_erf, named: "gelu", input, into: output)
    }

    /// `output = a + b`, where `b` may have size 1 in any dimension to broadcast.
    public func add(_ a: TensorView, _ b: TensorView, into output: TensorView) throws(TensorError) {
        try binary(dnnl_binary_add, a, b, into: output)
    }

    /// Copies `source` into `destination` (same shape, any strides) with a oneDNN reorder:
    /// gathers strided data, such as image patches, into a dense matrix.
    public func copy(_ source: TensorView, into destination: TensorView) throws(TensorError) {
        guard source.shape == destination.shape else {
            throw TensorError.shapeMismatch(operation: "copy", detail: "\(source.shape) into \(destination.shape)")
        }
        let key = PrimitiveKey.reorder(source: source.layout, destination: destination.layout)
        try execute(key, operation: "copy \(source.shape)", handles: [source.rawBase, destination.rawBase]) {
            (engine) throws(TensorError) in
            var descriptor: dnnl_primitive_desc_t?
            let attributes = try PrimitiveAttributes()
            try dnnlCheck(
                dnnl_reorder_primitive_desc_create(
                    &descriptor, [try source.layout.descriptor()], engine, [try destination.layout.descriptor()], engine,
                    attributes.handle),
                "describing a copy")
            guard let descriptor else { throw TensorError.dnnl(operation: "copy", status: "no reorder") }
            return (descriptor, [DNNL_ARG_FROM, DNNL_ARG_TO].map { Int32($0) })
        }
    }

    /// `output = f(input)` elementwise (oneDNN `eltwise`); both must share a layout.
    func eltwise(
        _ algorithm: dnnl_alg_kind_t, named name: String, _ input: TensorView, into output: TensorView
    ) throws(TensorError) {
        guard input.layout == output.layout else {
            throw TensorError.shapeMismatch(
                operation: "elementwise", detail: "input \(input.shape) and output \(output.shape) layouts differ")
        }
        let key = PrimitiveKey.eltwise(algorithm: algorithm.rawValue, input: input.layout)
        try execute(key, operation: "\(name) \(input.shape)", handles: [input.rawBase, output.rawBase]) {
            (engine) throws(TensorError) in
            var operation = dnnl_eltwise_desc_t()
            try dnnlCheck(
                dnnl_eltwise_forward_desc_init(
                    &operation, dnnl_forward_inference, algorithm, [try input.layout.descriptor()], 0, 0),
                "describing an elementwise function")
            let descriptor = try createPrimitiveDescriptor(
                &operation, attributes: try PrimitiveAttributes(), engine: engine, name: "eltwise")
            return (descriptor, [DNNL_ARG_SRC, DNNL_ARG_DST].map { Int32($0) })
        }
    }

    /// `output = a (op) b` with `b` broadcast along its size-1 dimensions (oneDNN `binary`).
    func binary(_ algorithm: dnnl_alg_kind_t, _ a: TensorView, _ b: TensorView, into output: TensorView) throws(TensorError) {
        guard a.shape == output.shape, b.rank == a.rank, zip(b.shape, a.shape).allSatisfy({ $0 == $1 || $0 == 1 }) else {
            throw TensorError.shapeMismatch(
                operation: "elementwise", detail: "\(a.shape) with \(b.shape) into \(output.shape)")
        }
        let key = PrimitiveKey.binary(algorithm: algorithm.rawValue, a: a.layout, b: b.layout, output: output.layout)
        try execute(key, operation: "binary \(a.shape)", handles: [a.rawBase, b.rawBase, output.rawBase]) {
            (engine) throws(TensorError) in
            var operation = dnnl_binary_desc_t()
            try dnnlCheck(
                dnnl_binary_desc_init(
                    &operation, algorithm, [try a.layout.descriptor()], [try b.layout.descriptor()],
                    [try output.layout.descriptor()]),
                "describing an elementwise operation")
            let descriptor = try createPrimitiveDescriptor(
                &operation, attributes: try PrimitiveAttributes(), engine: engine, name: "binary")
            return (descriptor, [DNNL_ARG_SRC_0, DNNL_ARG_SRC_1, DNNL_ARG_DST].map { Int32($0) })
        }
    }
}
