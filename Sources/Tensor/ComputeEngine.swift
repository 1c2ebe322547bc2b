import CDNNL
import Synchronization

/// Runs tensor kernels on oneDNN's CPU engine.
///
/// Primitives are created the first time a shape is seen and cached under everything their
/// creation depends on (shapes, strides, post-ops, weight format), so a steady-state forward
/// pass only rebinds buffers and executes. The cache keeps the `primitiveCapacity` most
/// recently used primitives, so inputs of ever-new shapes (text prompts of every length)
/// cannot grow it without bound. oneDNN parallelises each kernel internally
/// (OpenMP); executions on one engine are serialised by a lock, which also makes the shared
/// scratchpad safe.
public final class ComputeEngine: Sendable {
    /// How many primitives the cache keeps; a forward pass of a CLIP tower uses about a dozen.
    public static let primitiveCapacity = 256

    private let runtime: Mutex<Runtime>

    /// Whether this CPU multiplies bf16 natively (AVX-512 BF16 or AMX, as oneDNN detects
    /// it, operating-system permission included). Without it oneDNN either refuses bf16
    /// matmuls or emulates them more slowly than fp32, so bf16 weights are only worth
    /// asking for where this is true.
    public static var multipliesBF16Natively: Bool {
        let required = dnnl_cpu_isa_avx512_core_bf16.rawValue
        return dnnl_get_effective_cpu_isa().rawValue & required == required
    }

    /// The widest instruction set oneDNN uses here, by its name (`avx512_core_amx`, …).
    public static var instructionSet: String {
        switch dnnl_get_effective_cpu_isa() {
        case dnnl_cpu_isa_avx512_core_amx: "avx512_core_amx"
        case dnnl_cpu_isa_avx512_core_bf16: "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_vnni: "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core: "avx512_core"
        case dnnl_cpu_isa_avx2: "avx2"
        case dnnl_cpu_isa_avx: "avx"
        case dnnl_cpu_isa_sse41: "sse41"
        case let other: "isa 0x\(String(other.rawValue, radix: 16))"
        }
    }

    /// Creates a CPU engine and its stream.
    public init() throws(TensorError) {
        runtime = Mutex(try Runtime())
    }

    /// The kernels created so far, each with the implementation oneDNN chose for it
    /// (e.g. `linear 226×896→2688: brg:avx512_core`), sorted by name.
    public var preparedKernels: [String] {
        runtime.withLock { runtime in
            runtime.cache.map { "\($0.value.operation): \($0.value.primitive.implementation)" }.sorted()
        }
    }

    /// Runs the primitive cached under `key` on `handles`, creating it with `create` first if
    /// needed. `create` returns the primitive descriptor and the argument kinds that
    /// `handles` correspond to, in order.
    func execute(
        _ key: PrimitiveKey,
        operation: @autoclosure () -> String,
        handles: [UnsafeMutableRawPointer],
        create: (dnnl_engine_t) throws(TensorError) -> (dnnl_primitive_desc_t, [Int32])
    ) throws(TensorError) {
        try runtime.withLock { (runtime) throws(TensorError) in
            try runtime.run(key, operation: operation(), handles: handles, create: create)
        }
    }

    /// Runs `body` on the engine's runtime while holding the lock, for work that must run
    /// several primitives back to back on one shared buffer (the bf16 staging buffer).
    func withRuntime<R>(_ body: (Runtime) throws(TensorError) -> R) throws(TensorError) -> R {
        try runtime.withLock { (runtime) throws(TensorError) -> R in try body(runtime) }
    }

    /// Runs `body` with the engine while holding the lock, for one-off work at load time
    /// (such as packing weights) that must not share the stream with a concurrent kernel.
    func withEngine<R>(_ body: (dnnl_engine_t, dnnl_stream_t) throws(TensorError) -> R) throws(TensorError) -> R {
        try runtime.withLock { (runtime) throws(TensorError) -> R in
            try body(runtime.engine, runtime.stream)
        }
    }
}

extension ComputeEngine {
    /// The oneDNN objects behind an engine.
    ///
    /// `@unchecked Sendable`: it is reachable only through the engine's `Mutex`, so every
    /// access (including the raw pointers that executions bind) happens under that lock.
    final class Runtime: @unchecked Sendable {
        final class Entry {
            let operation: String
            let primitive: PreparedPrimitive
            /// The `clock` value of the last execution.
            var lastUse: UInt64 = 0

            init(operation: String, primitive: PreparedPrimitive) {
                self.operation = operation
                self.primitive = primitive
            }
        }

        let engine: dnnl_engine_t
        let stream: dnnl_stream_t
        private(set) var cache: [PrimitiveKey: Entry] = [:]
        private(set) var scratchpad = AlignedFloats(count: 0)
        private var stagingBuffer = AlignedFloats(count: 0)
        /// Counts executions, to find the least recently used primitive.
        var clock: UInt64 = 0

        init() throws(TensorError) {
            var engine: dnnl_engine_t?
            try dnnlCheck(dnnl_engine_create(&engine, dnnl_cpu, 0), "creating the CPU engine")
            guard let engine else { throw TensorError.dnnl(operation: "creating the CPU engine", status: "no engine") }
            var stream: dnnl_stream_t?
            let status = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue)
            guard status == dnnl_success, let stream else {
                dnnl_engine_destroy(engine)
                throw TensorError.dnnl(operation: "creating a stream", status: "status \(status.rawValue)")
            }
            self.engine = engine
            self.stream = stream
        }

        deinit {
            cache.removeAll()
            dnnl_stream_destroy(stream)
            dnnl_engine_destroy(engine)
        }

        /// Runs the primitive cached under `key` on `handles`, creating it with `create`
        /// first if needed. The caller holds the engine's lock.
        func run(
            _ key: PrimitiveKey,
            operation: @autoclosure () -> String,
            handles: [UnsafeMutableRawPointer],
            create: (dnnl_engine_t) throws(TensorError) -> (dnnl_primitive_desc_t, [Int32])
        ) throws(TensorError) {
            clock += 1
            let entry: Entry
            if let cached = cache[key] {
                entry = cached
            } else {
                let name = operation()
                let (descriptor, kinds) = try create(engine)
                let primitive = try PreparedPrimitive(descriptor: descriptor, engine: engine, argumentKinds: kinds, operation: name)
                entry = Entry(operation: name, primitive: primitive)
                insert(entry, for: key)
            }
            entry.lastUse = clock
            try entry.primitive.execute(handles: handles, scratchpad: scratchpad.rawBase, stream: stream, operation: entry.operation)
        }

        /// A buffer of at least `bytes` for operands converted to bf16 on their way into a
        /// matmul; it grows to the largest request and is reused. Valid while the lock is held.
        func staging(bytes: Int) -> UnsafeMutableRawPointer {
            let needed = (bytes + MemoryLayout<Float>.stride - 1) / MemoryLayout<Float>.stride
            if needed > stagingBuffer.count { stagingBuffer = AlignedFloats(count: needed) }
            return stagingBuffer.rawBase
        }

        /// Caches `entry`, evicting the least recently used primitive when full, and grows the
        /// shared scratchpad to what the new primitive needs.
        func insert(_ entry: Entry, for key: PrimitiveKey) {
            if cache.count >= ComputeEngine.primitiveCapacity,
                let oldest = cache.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
            {
                cache.removeValue(forKey: oldest)
            }
            cache[key] = entry
            let needed = (entry.primitive.scratchpadBytes + MemoryLayout<Float>.stride - 1) / MemoryLayout<Float>.stride
            if needed > scratchpad.count { scratchpad = AlignedFloats(count: needed) }
        }
    }
}

/// Everything a cached primitive's creation depends on.
enum PrimitiveKey: Hashable {
    case linear(input: StridedLayout, weights: PackedFormat, hasBias: Bool, output: StridedLayout, epilogue: LinearEpilogue)
    /// A linear layer whose output is dense bf16 (`linearsToBF16`).
    case linearToBF16(input: StridedLayout, weights: PackedFormat, hasBias: Bool, output: StridedLayout, epilogue: LinearEpilogue)
    case matmul(a: StridedLayout, b: StridedLayout, output: StridedLayout, scaleBits: UInt32, addend: StridedLayout?)
    /// A matmul of bf16 operands with fp32 sums, written in fp32 or (`outputIsBF16`) bf16.
    case bf16Matmul(a: StridedLayout, b: StridedLayout, output: StridedLayout, outputIsBF16: Bool, scaleBits: UInt32)
    case layerNorm(input: StridedLayout, output: StridedLayout, epsilonBits: UInt32)
    case softmax(input: StridedLayout, output: StridedLayout)
    case eltwise(algorithm: UInt32, input: StridedLayout)
    case binary(algorithm: UInt32, a: StridedLayout, b: StridedLayout, output: StridedLayout)
    case rowNorms(input: StridedLayout, output: StridedLayout)
    case reorder(source: StridedLayout, destination: StridedLayout)
    /// An fp32 → bf16 conversion of `source` into a dense row-major bf16 buffer.
    case convertToBF16(source: StridedLayout)
}
