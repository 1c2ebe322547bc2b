/// Fixed-size fp32 storage at a 64-byte-aligned address that never moves, for data that
/// oneDNN reads or writes by pointer (packed weights, workspaces).
///
/// `@unchecked Sendable`: the owners uphold the invariant that contents are written either
/// before the storage is shared (weights, filled once at load) or only while the owner holds
/// exclusive access (workspaces behind a `Mutex`).
final class AlignedFloats: @unchecked Sendable {
    let count: Int
    let base: UnsafeMutablePointer<Float>

    /// Zero-filled storage for `count` scalars.
    init(count: Int) {
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// Storage holding a copy of `scalars`.
    convenience init(_ scalars: [Float]) {
        self.init(count: scalars.count)
        scalars.withUnsafeBufferPointer { source in
            guard let address = source.baseAddress else { return }
            base.update(from: address, count: source.count)
        }
    }

    deinit {
        UnsafeMutableRawPointer(base).deallocate()
    }

    var rawBase: UnsafeMutableRawPointer { UnsafeMutableRawPointer(base) }

    var array: [Float] { Array(UnsafeBufferPointer(start: base, count: count)) }
}
