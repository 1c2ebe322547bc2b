import CDNNL

/// A created oneDNN primitive with one memory object per argument, created once and rebound
/// to the caller's buffers on every execution, so the hot path neither creates primitives
/// nor allocates memory objects.
final class PreparedPrimitive {
    /// What oneDNN chose to run (e.g. `brg:avx512_core`), for benchmarks and diagnostics.
    let implementation: String
    /// Bytes of scratch memory an execution needs (user-managed scratchpad).
    let scratchpadBytes: Int

    private let primitive: dnnl_primitive_t
    private let memories: [dnnl_memory_t]
    private var arguments: [dnnl_exec_arg_t]

    /// Creates the primitive described by `descriptor` (which this initialiser destroys) with
    /// memory objects for `argumentKinds` (`DNNL_ARG_*` values, in the order handles will be
    /// given to `execute`), plus the scratchpad when the primitive needs one.
    init(descriptor: dnnl_primitive_desc_t, engine: dnnl_engine_t, argumentKinds: [Int32], operation: String) throws(TensorError) {
        defer { dnnl_primitive_desc_destroy(descriptor) }

        var implementationName: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(descriptor, dnnl_query_impl_info_str, 0, &implementationName)
        implementation = implementationName.map { String(cString: $0) } ?? "unknown"

        var kinds = argumentKinds
        let scratchpadDescriptor = dnnl_primitive_desc_query_md(descriptor, dnnl_query_scratchpad_md, 0)
        let scratchpadSize = scratchpadDescriptor.map { dnnl_memory_desc_get_size($0) } ?? 0
        scratchpadBytes = scratchpadSize
        if scratchpadSize > 0 { kinds.append(DNNL_ARG_SCRATCHPAD) }

        var createdMemories: [dnnl_memory_t] = []
        var failure: TensorError?
        for kind in kinds {
            guard let argumentDescriptor = dnnl_primitive_desc_query_md(descriptor, dnnl_query_exec_arg_md, kind) else {
                failure = TensorError.dnnl(operation: operation, status: "no memory descriptor for argument \(kind)")
                break
            }
            var memory: dnnl_memory_t?
            let status = dnnl_memory_create(&memory, argumentDescriptor, engine, nil)
            guard status == dnnl_success, let memory else {
                failure = TensorError.dnnl(operation: operation, status: "memory object for argument \(kind): status \(status.rawValue)")
                break
            }
            createdMemories.append(memory)
        }
        var created: dnnl_primitive_t?
        if failure == nil {
            let status = dnnl_primitive_create(&created, descriptor)
            if status != dnnl_success { failure = TensorError.dnnl(operation: operation, status: "primitive creation: status \(status.rawValue)") }
        }
        guard failure == nil, let created else {
            createdMemories.forEach { dnnl_memory_destroy($0) }
            throw failure ?? TensorError.dnnl(operation: operation, status: "primitive creation returned nothing")
        }
        primitive = created
        memories = createdMemories
        arguments = zip(kinds, createdMemories).map { dnnl_exec_arg_t(arg: $0, memory: $1) }
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        memories.forEach { dnnl_memory_destroy($0) }
    }

    /// Runs the primitive on `handles` (one per argument kind given at creation) and waits
    /// for it to finish.
    func execute(
        handles: [UnsafeMutableRawPointer], scratchpad: UnsafeMutableRawPointer, stream: dnnl_stream_t, operation: String
    ) throws(TensorError) {
        for (memory, handle) in zip(memories, handles) {
            try dnnlCheck(dnnl_memory_set_data_handle(memory, handle), operation)
        }
        if scratchpadBytes > 0, let scratchpadMemory = memories.last {
            try dnnlCheck(dnnl_memory_set_data_handle(scratchpadMemory, scratchpad), operation)
        }
        let count = Int32(arguments.count)
        try arguments.withUnsafeBufferPointer { (arguments) throws(TensorError) in
            try dnnlCheck(dnnl_primitive_execute(primitive, stream, count, arguments.baseAddress), operation)
        }
        try dnnlCheck(dnnl_stream_wait(stream), operation)
    }
}
