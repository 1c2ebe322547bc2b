import CKernels

extension ComputeEngine {
    /// Softmax along the last dimension of the dense fp32 `logits`, each probability rounded
    /// to bf16 (to nearest, ties to even) into the dense `probabilities` of the same shape:
    /// attention's probabilities on their way into p·v in bf16 mode.
    ///
    /// Per row, in fp32: `m = max x`, `e = exp(x − m)`, `p = e · (1 / Σ e)`, then rounded once.
    /// One pass reads the logits and one writes bf16 (`Sources/CKernels`), where oneDNN would
    /// take a softmax and a conversion. Its exp is a polynomial good to about one fp32 unit,
    /// so a probability can land one bf16 unit from the correctly rounded one where the exact
    /// value lies that close to a rounding boundary. `logits` is scratch: on return it holds
    /// the unnormalised `e`.
    public func softmax(overwriting logits: TensorView, intoBF16 probabilities: BF16View) throws(TensorError) {
        try softmax(overwriting: logits, intoBF16: probabilities, vectorized: true)
    }

    /// ``softmax(overwriting:intoBF16:)`` with the AVX-512 kernel turned off when
    /// `vectorized` is false, so tests check the portable kernel on any CPU.
    func softmax(overwriting logits: TensorView, intoBF16 probabilities: BF16View, vectorized: Bool) throws(TensorError) {
        guard logits.rank >= 1, logits.shape == probabilities.shape,
            logits.strides == TensorView.rowMajorStrides(for: logits.shape),
            probabilities.strides == TensorView.rowMajorStrides(for: probabilities.shape)
        else {
            throw TensorError.shapeMismatch(
                operation: "softmax to bf16",
                detail: "dense \(logits.shape) (strides \(logits.strides)) into \(probabilities.shape) (strides \(probabilities.strides))")
        }
        let length = logits.shape[logits.rank - 1]
        let rows = logits.shape.reduce(1, *) / max(length, 1)
        // Under the engine's lock, as every kernel: its threads are the ones oneDNN uses.
        try withRuntime { (_) in
            inctrl_softmax_rows_to_bf16(
                logits.base, probabilities.base.assumingMemoryBound(to: UInt16.self), rows, length, vectorized ? 1 : 0)
        }
    }
}
