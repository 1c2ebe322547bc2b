import CDNNL

/// A strided window onto bf16 memory (two bytes an element): what `TensorView` is for fp32.
///
/// In bf16 mode attention reads its operands this way: the query, key and value heads inside
/// a fused projection written in bf16, and the softmax's probabilities rounded to bf16.
/// Strides count elements, not bytes. The memory must stay valid and (for outputs)
/// exclusively owned for the duration of the kernel call.
public struct BF16View {
    /// Address of the element at index (0, 0, …).
    public var base: UnsafeMutableRawPointer
    /// The size of each dimension.
    public var shape: [Int]
    /// Distance, in elements, between neighbours along each dimension.
    public var strides: [Int]

    /// A view of `shape` at `base`; row-major contiguous unless `strides` are given.
    public init(_ base: UnsafeMutableRawPointer, shape: [Int], strides: [Int]? = nil) {
        self.base = base
        self.shape = shape
        self.strides = strides ?? TensorView.rowMajorStrides(for: shape)
    }

    /// The same memory with the last two dimensions swapped (a transpose, no copy).
    public var transposed: BF16View {
        let swapped = layout.transposed
        return BF16View(base, shape: swapped.shape, strides: swapped.strides)
    }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    var layout: StridedLayout { StridedLayout(shape: shape, strides: strides) }
}
