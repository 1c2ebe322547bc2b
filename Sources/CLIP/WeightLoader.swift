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
        let weightScalars = try floats(weight, [outFeatures, inFeatures])
        let biasScalars = try bias.map { (key) throws(CLIPError) in try floats(key, [outFeatures]) }
        return try kernel { () throws(TensorError) in
            try engine.packLinear(
                weight: weightScalars, orientation: .outputMajor, inFeatures: inFeatures, outFeatures: outFeatures,
                bias: biasScalars, typicalRows: typicalRows, precision: precision)
        }
    }

    /// A projection stored `[in, out]` with no bias (CLIP's `proj`, `text_projection`).
    func projection(_ key: String, inFeatures: Int, outFeatures: Int, typicalRows: Int) throws(CLIPError) -> LinearWeights {
        let weightScalars = try floats(key, [inFeatures, outFeatures])
        return try kernel { () throws(TensorError) in
            try engine.packLinear(
                weight: weightScalars, orientation: .inputMajor, inFeatures: inFeatures, outFeatures: outFeatures,
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
