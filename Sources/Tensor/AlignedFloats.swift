/// Fixed-size fp32 storage at a 64-byte-aligned address that never moves, for data that
/// oneDNN reads or writes by pointer: packed weights and the workspaces of a forward pass.
///
/// `@unchecked Sendable`: the storage itself does no synchronisation. Its owners write it
/// either before sharing it (weights, filled once at load) or only while holding exclusive
/// access (a workspace behind its model's lock); that is the contract for any new owner.
public final class AlignedFloats: @unchecked Sendable {
    /// Number of scalars.
    public let count: Int
    /// Address of the first scalar.
    public let base: UnsafeMutablePointer<Float>

    /// Zero-filled storage for `count` scalars.
    public init(count: Int) {
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// Storage holding a copy of `scalars`.
    public convenience init(_ scalars: [Float]) {
        self.init(count: scalars.count)
        scalars.withUnsafeBufferPointer { source in
            guard let address = source.baseAddress else { return }
            base.update(from: address, count: source.count)
        }
    }

    deinit {
        UnsafeMutableRawPointer(base).deallocate()
    }

    /// A row-major `rows × columns` view starting at row `firstRow`.
    public func matrix(rows: Int, columns: Int, firstRow: Int = 0) -> TensorView {
        precondition((firstRow + rows) * columns <= count, "view outside the buffer")
        return .matrix(base + firstRow * columns, rows: rows, columns: columns)
    }

    /// A copy of the first `shape.reduce(1, *)` scalars as a `Tensor`.
    public func tensor(shape: [Int], offset: Int = 0) -> Tensor {
        let elementCount = shape.reduce(1, *)
        precondition(offset + elementCount <= count, "tensor outside the buffer")
        return Tensor(validatedShape: shape, scalars: Array(UnsafeBufferPointer(start: base + offset, count: elementCount)))
    }

    var rawBase: UnsafeMutableRawPointer { UnsafeMutableRawPointer(base) }
}
