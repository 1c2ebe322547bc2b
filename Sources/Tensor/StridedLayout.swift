import CDNNL

/// The shape and strides of a view without its address: what a cached primitive depends on.
struct StridedLayout: Hashable, Sendable {
    var shape: [Int]
    var strides: [Int]

    /// The oneDNN memory descriptor of this layout.
    func descriptor(_ dataType: dnnl_data_type_t = dnnl_f32) throws(TensorError) -> dnnl_memory_desc_t {
        var descriptor = dnnl_memory_desc_t()
        let dims = shape.map { Int64($0) }
        let elementStrides = strides.map { Int64($0) }
        try dnnlCheck(
            dnnl_memory_desc_init_by_strides(&descriptor, Int32(shape.count), dims, dataType, elementStrides),
            "a memory descriptor of shape \(shape) and strides \(strides)")
        return descriptor
    }

    /// The same memory with the last two dimensions swapped (a transpose, no copy).
    var transposed: StridedLayout {
        var layout = self
        guard shape.count >= 2 else { return layout }
        layout.shape.swapAt(shape.count - 1, shape.count - 2)
        layout.strides.swapAt(strides.count - 1, strides.count - 2)
        return layout
    }
}
