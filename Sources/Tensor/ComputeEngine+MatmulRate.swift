extension ComputeEngine {
    /// Times oneDNN's matmul alone at one linear layer's shape (``LinearTiming``): the
    /// machine's matmul rate that a forward pass can at best reach at this shape. Returns the
    /// seconds of each of the `iterations` executions that follow `warmup` untimed ones.
    public func timeLinear(
        rows: Int, inFeatures: Int, outFeatures: Int, hasBias: Bool, precision: WeightPrecision,
        iterations: Int, warmup: Int
    ) throws(TensorError) -> [Double] {
        let timing = try LinearTiming(
            engine: self, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures, hasBias: hasBias, precision: precision)
        for _ in 0..<warmup { _ = try timing.time() }
        var seconds: [Double] = []
        seconds.reserveCapacity(iterations)
        for _ in 0..<iterations { seconds.append(try timing.time()) }
        return seconds
    }
}
