import CDNNL

/// Owns a oneDNN attribute object while a primitive descriptor is created from it: a
/// user-managed scratchpad (so executions share one buffer instead of allocating), output
/// scaling and the post-op chain that fuses bias-free epilogues into the producing kernel.
final class PrimitiveAttributes {
    let handle: dnnl_primitive_attr_t
    private let postOps: dnnl_post_ops_t
    private(set) var postOpCount = 0

    init() throws(TensorError) {
        var attributes: dnnl_primitive_attr_t?
        try dnnlCheck(dnnl_primitive_attr_create(&attributes), "creating primitive attributes")
        var postOps: dnnl_post_ops_t?
        let status = dnnl_post_ops_create(&postOps)
        guard let attributes, status == dnnl_success, let postOps else {
            if let attributes { dnnl_primitive_attr_destroy(attributes) }
            throw TensorError.dnnl(operation: "creating a post-op chain", status: "status \(status.rawValue)")
        }
        handle = attributes
        self.postOps = postOps
        try dnnlCheck(dnnl_primitive_attr_set_scratchpad_mode(handle, dnnl_scratchpad_mode_user), "setting the scratchpad mode")
    }

    deinit {
        dnnl_post_ops_destroy(postOps)
        dnnl_primitive_attr_destroy(handle)
    }

    /// Multiplies the accumulated product by `scale` before any post-op.
    func setOutputScale(_ scale: Float) throws(TensorError) {
        var scales = [scale]
        try dnnlCheck(dnnl_primitive_attr_set_output_scales(handle, 1, 0, &scales), "setting an output scale")
    }

    /// Appends `dst = eltwise(dst)`.
    func appendEltwise(_ algorithm: dnnl_alg_kind_t, alpha: Float = 0, beta: Float = 0) throws(TensorError) {
        try dnnlCheck(dnnl_post_ops_append_eltwise(postOps, 1, algorithm, alpha, beta), "appending an eltwise post-op")
        try commit()
    }

    /// Appends `dst = previous dst + result`: the residual connection, done in place.
    func appendSum() throws(TensorError) {
        try dnnlCheck(dnnl_post_ops_append_sum(postOps, 1), "appending a sum post-op")
        try commit()
    }

    /// Appends `dst = dst (op) src1` for a second operand described by `descriptor` (which may
    /// broadcast along dimensions of size 1). Returns the execution argument kind of that operand.
    func appendBinary(_ algorithm: dnnl_alg_kind_t, operand descriptor: dnnl_memory_desc_t) throws(TensorError) -> Int32 {
        var descriptor = descriptor
        let index = postOpCount
        try dnnlCheck(dnnl_post_ops_append_binary(postOps, algorithm, &descriptor), "appending a binary post-op")
        try commit()
        return Int32(DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE) * Int32(index + 1) | Int32(DNNL_ARG_SRC_1)
    }

    private func commit() throws(TensorError) {
        postOpCount += 1
        try dnnlCheck(dnnl_primitive_attr_set_post_ops(handle, postOps), "attaching post-ops")
    }
}

/// Creates a primitive descriptor for the operation descriptor `operation` (a oneDNN
/// `*_desc_t`), taking oneDNN's first (fastest) implementation.
func createPrimitiveDescriptor<Descriptor>(
    _ operation: inout Descriptor, attributes: PrimitiveAttributes?, engine: dnnl_engine_t, name: String
) throws(TensorError) -> dnnl_primitive_desc_t {
    var descriptor: dnnl_primitive_desc_t?
    let status = withUnsafePointer(to: &operation) { pointer in
        dnnl_primitive_desc_create(&descriptor, pointer, attributes?.handle, engine, nil)
    }
    try dnnlCheck(status, name)
    guard let descriptor else { throw TensorError.dnnl(operation: name, status: "no primitive descriptor") }
    return descriptor
}
