import Tensor

/// Reads a tower's tensors by reference key, checks each shape, and packs matmul weights,
/// so a missing or mis-shaped tensor is a load error naming its key. Matmul weights are
/// packed in `precision`.
struct WeightLoader {
    let file: SafeTensorsFile
    let engine: ComputeEngine
    let precision: WeightPrecision

    /// The tensor `key`, which must have exactly `shape`.
    func floats(_ key: String, _ shape: [Int]) throws(CLIPError) -> [Float] {
        do {
            return try file.floats(key, shape: shape)
        } catch {
            throw .weights(error)
        }
    }

    /// The tensor `key` as a `Tensor` of exactly `shape`.
    func tensor(_ key: String, _ shape: [Int]) throws(CLIPError) -> Tensor {
        let scalars = try floats(key, shape)
        return try kernel { () throws(TensorError) in try Tensor(shape: shape, scalars: scalars) }
    }

    /// A linear layer whose weight is stored `[out, in]` (PyTorch `nn.Linear`), with an
    /// optional `[out]` bias.
    func linear(
        weight: String, bias: String?, inFeatures: Int, outFeatures: Int, typicalRows: Int
    ) throws(CLIPError) -> LinearWeights {
        try linearParts(weight: weight, bias: bias, inFeatures: inFeatures, outFeatures: outFeatures, parts: 1, typicalRows: typicalRows)[0]
    }

    /// The linear layer stored `[parts·outFeatures, in]` under `weight` (with an optional
    /// bias), packed as `parts` layers of `outFeatures` outputs each: part `i` is its output
    /// rows `i·outFeatures..<(i+1)·outFeatures` (attention's q, k and v of `in_proj`).
    func linearParts(
        weight: String, bias: String?, inFeatures: Int, outFeatures: Int, parts: Int, typicalRows: Int
    ) throws(CLIPError) -> [LinearWeights] {
        let biasScalars = try bias.map { (key) throws(CLIPError) in try floats(key, [parts * outFeatures]) }
        return try packed(weight, [parts * outFeatures, inFeatures]) { (scalars) throws(TensorError) in
            var layers: [LinearWeights] = []
            for part in 0..<parts {
                let outputs = part * outFeatures..<(part + 1) * outFeatures
                layers.append(try engine.packLinear(
                    weightAt: scalars + outputs.lowerBound * inFeatures * MemoryLayout<Float>.size, orientation: .outputMajor,
                    inFeatures: inFeatures, outFeatures: outFeatures, bias: biasScalars.map { Array($0[outputs]) },
                    typicalRows: typicalRows, precision: precision))
            }
            return layers
        }
    }

    /// Packs the tensor `key` of exactly `shape` with `pack`, reading it in place from the
    /// file.
    private func packed<Packed>(
        _ key: String, _ shape: [Int], _ pack: (UnsafeRawPointer) throws(TensorError) -> Packed
    ) throws(CLIPError) -> Packed {
        let outcome: Result<Packed, TensorError>
        do {
            outcome = try file.withFloat32Storage(key, shape: shape) { (scalars) in
                Result { () throws(TensorError) in try pack(scalars) }
            }
        } catch {
            throw .weights(error)
        }
        return try kernel { () throws(TensorError) in try outcome.get() }
    }

    /// A projection stored `[in, out]` with no bias (CLIP's `proj`, `text_projection`).
    func projection(_ key: String, inFeatures: Int, outFeatures: Int, typicalRows: Int) throws(CLIPError) -> LinearWeights {
        try packed(key, [inFeatures, outFeatures]) { (scalars) throws(TensorError) in
            try engine.packLinear(
                weightAt: scalars, orientation: .inputMajor, inFeatures: inFeatures, outFeatures: outFeatures,
                typicalRows: typicalRows, precision: precision)
        }
    }

    /// The LayerNorm `prefix.weight` / `prefix.bias` over `width` channels (ε = 1e-5).
    func layerNorm(_ prefix: String, width: Int) throws(CLIPError) -> LayerNormWeights {
        let scale = try floats(prefix + ".weight", [width])
        let shift = try floats(prefix + ".bias", [width])
        return try kernel { () throws(TensorError) in try LayerNormWeights(scale: scale, shift: shift, epsilon: 1e-5) }
    }
}
