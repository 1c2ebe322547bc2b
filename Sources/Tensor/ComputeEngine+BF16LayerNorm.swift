import CKernels

extension ComputeEngine {
    /// ``layerNorm(_:_:into:)`` of the dense `[rows, channels]` `input`, each result rounded
    /// to bf16 (to nearest, ties to even) into dense bf16 `[rows, channels]` at `output`: the
    /// input of the bf16 layers that follow a LayerNorm (``linearsToBF16(bf16Input:rows:_:epilogue:)``),
    /// which would otherwise convert an fp32 output. One pass of our own (`Sources/CKernels`):
    /// oneDNN 2.6's LayerNorm writes only the type it reads. Statistics in fp32, the mean
    /// first and then the mean squared difference from it, as oneDNN and PyTorch take them;
    /// sums in another order, so a value can land one bf16 unit from the rounded fp32 one.
    public func layerNorm(_ input: TensorView, _ weights: LayerNormWeights, intoBF16 output: UnsafeMutableRawPointer) throws(TensorError) {
        try layerNorm(input, weights, intoBF16: output, vectorized: true)
    }

    /// ``layerNorm(_:_:intoBF16:)`` with the AVX-512 kernel turned off when `vectorized` is
    /// false, so tests check the portable kernel on any CPU.
    func layerNorm(
        _ input: TensorView, _ weights: LayerNormWeights, intoBF16 output: UnsafeMutableRawPointer, vectorized: Bool
    ) throws(TensorError) {
        guard input.rank == 2, input.shape[1] == weights.channels, input.strides == TensorView.rowMajorStrides(for: input.shape) else {
            throw TensorError.shapeMismatch(
                operation: "layerNorm to bf16",
                detail: "dense input \(input.shape) (strides \(input.strides)), \(weights.channels) channels")
        }
        // Under the engine's lock, as every kernel: its threads are the ones oneDNN uses.
        try withRuntime { (_) in
            inctrl_layer_norm_rows_to_bf16(
                input.base, weights.scale.base, weights.shift.base, output.assumingMemoryBound(to: UInt16.self),
                input.shape[0], input.shape[1], weights.epsilon, vectorized ? 1 : 0)
        }
    }
}
