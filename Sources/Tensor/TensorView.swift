import CDNNL

/// A strided window onto fp32 memory that a kernel reads or writes: a base address, a shape
/// and an element stride per dimension (outermost first, as oneDNN orders dimensions).
///
/// Views let kernels read operands in place — the query, key and value heads inside a fused
/// projection output, a transposed matrix, a block of rows — without copying. The memory
/// must stay valid and (for outputs) exclusively owned for the duration of the kernel call.
public struct TensorView {
    /// Address of the element at index (0, 0, …).
    public var base: UnsafeMutablePointer<Float>
    /// The size of each dimension.
    public var shape: [Int]
    /// Distance, in elements, between neighbours along each dimension.
    public var strides: [Int]

    /// A view of `shape` at `base`; row-major contiguous unless `strides` are given.
    public init(_ base: UnsafeMutablePointer<Float>, shape: [Int], strides: [Int]? = nil) {
        self.base = base
        self.shape = shape
        self.strides = strides ?? TensorView.rowMajorStrides(for: shape)
    }

    /// A row-major `rows × columns` matrix whose rows start `rowStride` elements apart.
    public static func matrix(
        _ base: UnsafeMutablePointer<Float>, rows: Int, columns: Int, rowStride: Int? = nil
    ) -> TensorView {
        TensorView(base, shape: [rows, columns], strides: [rowStride ?? columns, 1])
    }

    /// The same memory with the last two dimensions swapped (a transpose, no copy).
    public var transposed: TensorView {
        let swapped = layout.transposed
        return TensorView(base, shape: swapped.shape, strides: swapped.strides)
    }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// Number of elements the view covers.
    public var elementCount: Int { shape.reduce(1, *) }

    /// Whether the view is dense and row-major (no gaps, no reordering).
    public var isContiguous: Bool { strides == TensorView.rowMajorStrides(for: shape) }

    static func rowMajorStrides(for shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in shape.indices.reversed() {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    var layout: StridedLayout { StridedLayout(shape: shape, strides: strides) }

    var rawBase: UnsafeMutableRawPointer { UnsafeMutableRawPointer(base) }
}
