import CDNNL

extension ComputeEngine {
    /// Times oneDNN's matmul alone at one linear layer's shape, run exactly as `linear` runs
    /// it (the same cached primitive, weights packed for `rows`, fp32 bias and output) but
    /// without an epilogue and, in bf16, with the input converted before the clock starts:
    /// the machine's matmul rate that a forward pass can at best reach at this shape.
    ///
    /// Weights and input are random (the time does not depend on the values). Returns the
    /// seconds of each of the `iterations` executions that follow `warmup` untimed ones.
    public func timeLinear(
        rows: Int, inFeatures: Int, outFeatures: Int, hasBias: Bool, precision: WeightPrecision,
        iterations: Int, warmup: Int
    ) throws(TensorError) -> [Double] {
        var generator = SeededGenerator(seed: UInt64(rows * 1_000_003 + inFeatures * 1009 + outFeatures))
        var weight = [Float](repeating: 0, count: inFeatures * outFeatures)
        weight.withUnsafeMutableBufferPointer { generator.fillNormal($0, std: 0.02) }
        let bias = hasBias ? [Float](repeating: 0.01, count: outFeatures) : nil
        let weights = try packLinear(
            weight: weight, orientation: .outputMajor, inFeatures: inFeatures, outFeatures: outFeatures, bias: bias,
            typicalRows: rows, precision: precision)

        let layout = StridedLayout(shape: [rows, inFeatures], strides: [inFeatures, 1])
        let outputLayout = StridedLayout(shape: [rows, outFeatures], strides: [outFeatures, 1])
        let input = AlignedFloats(count: rows * inFeatures)
        generator.fillNormal(UnsafeMutableBufferPointer(start: input.base, count: input.count), std: 1)
        let output = AlignedFloats(count: rows * outFeatures)
        // In bf16 the matmul reads a bf16 copy of the input, made here once.
        let operand: AlignedFloats
        switch precision {
        case .fp32:
            operand = input
        case .bf16:
            operand = AlignedFloats(count: (rows * inFeatures + 1) / 2)
            try execute(
                .convertToBF16(source: layout), operation: "convert [\(rows), \(inFeatures)] to bf16",
                handles: [input.rawBase, operand.rawBase]
            ) { (engine) throws(TensorError) in
                try Self.describeConversion(from: layout, to: layout, engine: engine)
            }
        }

        let handles = Self.linearHandles(input: operand.rawBase, weights: weights, output: output.rawBase)
        var seconds: [Double] = []
        seconds.reserveCapacity(iterations)
        for run in 0..<(warmup + iterations) {
            let start = ContinuousClock.now
            try execute(
                .linear(input: layout, weights: weights.format, hasBias: hasBias, output: outputLayout, epilogue: .none),
                operation: Self.linearName(rows: rows, weights: weights, epilogue: .none),
                handles: handles
            ) { (engine) throws(TensorError) in
                try Self.describeLinear(input: layout, weights: weights, output: outputLayout, epilogue: .none, engine: engine)
            }
            let elapsed = (ContinuousClock.now - start).components
            if run >= warmup {
                seconds.append(Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18)
            }
        }
        return seconds
    }
}
