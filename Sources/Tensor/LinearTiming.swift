/// oneDNN's matmul at one linear layer's shape, prepared once and timed one execution at a
/// time: the yardstick a forward pass is measured against (`ComputeEngine.timeLinear`).
///
/// It runs exactly as `linear` runs the layer (the same cached primitive, weights packed for
/// `rows`, fp32 bias and output) but without an epilogue and, in bf16, with the input
/// converted once, here, rather than before every execution. Weights and input are random
/// (the time does not depend on the values). Executions can be interleaved with other work,
/// so that a yardstick and what it measures see the same moments of a shared machine.
public final class LinearTiming {
    private let engine: ComputeEngine
    private let weights: LinearWeights
    private let layout: StridedLayout
    private let outputLayout: StridedLayout
    /// The matmul's input (in bf16, a bf16 copy of random fp32 values) and output.
    private let operand: AlignedFloats
    private let output: AlignedFloats

    /// Packs random weights for `rows` rows and prepares the input.
    public init(
        engine: ComputeEngine, rows: Int, inFeatures: Int, outFeatures: Int, hasBias: Bool, precision: WeightPrecision
    ) throws(TensorError) {
        self.engine = engine
        var generator = SeededGenerator(seed: UInt64(rows * 1_000_003 + inFeatures * 1009 + outFeatures))
        var weight = [Float](repeating: 0, count: inFeatures * outFeatures)
        weight.withUnsafeMutableBufferPointer { generator.fillNormal($0, std: 0.02) }
        let bias = hasBias ? [Float](repeating: 0.01, count: outFeatures) : nil
        weights = try engine.packLinear(
            weight: weight, orientation: .outputMajor, inFeatures: inFeatures, outFeatures: outFeatures, bias: bias,
            typicalRows: rows, precision: precision)

        let layout = StridedLayout(shape: [rows, inFeatures], strides: [inFeatures, 1])
        self.layout = layout
        outputLayout = StridedLayout(shape: [rows, outFeatures], strides: [outFeatures, 1])
        let input = AlignedFloats(count: rows * inFeatures)
        generator.fillNormal(UnsafeMutableBufferPointer(start: input.base, count: input.count), std: 1)
        output = AlignedFloats(count: rows * outFeatures)
        switch precision {
        case .fp32:
            operand = input
        case .bf16:
            let converted = AlignedFloats(count: (rows * inFeatures + 1) / 2)
            try engine.execute(
                .convertToBF16(source: layout), operation: "convert [\(rows), \(inFeatures)] to bf16",
                handles: [input.rawBase, converted.rawBase]
            ) { (dnnlEngine) throws(TensorError) in
                try ComputeEngine.describeConversion(from: layout, to: layout, engine: dnnlEngine)
            }
            operand = converted
        }
    }

    /// Runs the matmul once; returns its wall-clock seconds.
    public func time() throws(TensorError) -> Double {
        let (layout, outputLayout, weights) = (layout, outputLayout, weights)
        let start = ContinuousClock.now
        try engine.execute(
            .linear(input: layout, weights: weights.format, hasBias: weights.hasBias, output: outputLayout, epilogue: .none),
            operation: ComputeEngine.linearName(rows: layout.shape[0], weights: weights, epilogue: .none),
            handles: ComputeEngine.linearHandles(input: operand.rawBase, weights: weights, output: output.rawBase)
        ) { (dnnlEngine) throws(TensorError) in
            try ComputeEngine.describeLinear(input: layout, weights: weights, output: outputLayout, epilogue: .none, engine: dnnlEngine)
        }
        let elapsed = (ContinuousClock.now - start).components
        return Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
    }
}
