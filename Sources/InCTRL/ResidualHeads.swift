import Foundation
import CLIP
import Tensor

/// A dense layer `y = W·x + b` on single vectors; InCTRL's heads are too small for a matmul
/// library to matter (at most 640 → 160).
struct DenseLayer: Sendable {
    /// `[outputs, inputs]`, row-major (PyTorch's `nn.Linear.weight`).
    let weight: [Float]
    /// `[outputs]`, or empty for no bias.
    let bias: [Float]
    let inputs: Int
    let outputs: Int

    func callAsFunction(_ input: [Float]) -> [Float] {
        precondition(input.count == inputs, "dense layer of \(inputs) inputs given \(input.count)")
        return weight.withUnsafeBufferPointer { weight in
            (0..<outputs).map { row in
                var sum: Float = 0
                let base = row * inputs
                for column in 0..<inputs { sum += weight[base + column] * input[column] }
                return bias.isEmpty ? sum : sum + bias[row]
            }
        }
    }
}

/// BatchNorm1d in evaluation mode, folded the way PyTorch's CPU kernel folds it:
/// `y = x·α + β` with `α = weight / sqrt(running_var + eps)`, `β = bias − running_mean·α`.
struct BatchNormInference: Sendable {
    let alpha: [Float]
    let beta: [Float]

    init(weight: [Float], bias: [Float], runningMean: [Float], runningVariance: [Float], epsilon: Float = 1e-5) {
        alpha = zip(weight, runningVariance).map { $0 / ($1 + epsilon).squareRoot() }
        beta = zip(bias, zip(runningMean, alpha)).map { $0 - $1.0 * $1.1 }
    }

    func callAsFunction(_ input: [Float]) -> [Float] {
        zip(input, zip(alpha, beta)).map { $0 * $1.0 + $1.1 }
    }
}

func relu(_ values: [Float]) -> [Float] { values.map { max($0, 0) } }

func sigmoid(_ value: Float) -> Float { 1 / (1 + (-value).exponential) }

extension Float {
    /// `e^self` through the C library, as PyTorch's CPU sigmoid and softmax use it.
    var exponential: Float { Float(expf(self)) }
}

/// InCTRL's adapter: `ReLU(W2 · ReLU(W1 · v))`, no biases (docs/MODEL.md §3).
public struct Adapter: Sendable {
    let down: DenseLayer
    let up: DenseLayer

    /// Adapts one embedding.
    public func callAsFunction(_ embedding: [Float]) -> [Float] {
        relu(up(relu(down(embedding))))
    }
}

/// `TransformerBasicHead`: `sigmoid(W3·BN3(ReLU(W2·BN2(ReLU(W1·v + b1)) + b2)) + b3)`.
/// The checkpoint's `bn1` is never applied (docs/MODEL.md §3), so it is not loaded.
public struct ResidualHead: Sendable {
    let projection1: DenseLayer
    let projection2: DenseLayer
    let projection3: DenseLayer
    let norm2: BatchNormInference
    let norm3: BatchNormInference

    /// The head's probability for one input vector.
    public func callAsFunction(_ input: [Float]) -> Float {
        let hidden1 = norm2(relu(projection1(input)))
        let hidden2 = norm3(relu(projection2(hidden1)))
        return sigmoid(projection3(hidden2)[0])
    }
}

/// The trained parts InCTRL adds to CLIP, loaded by reference key and shape-checked.
public struct InCTRLWeights: Sendable {
    /// Applied to pooled image embeddings before the image-level residual.
    public let adapter: Adapter
    /// `diff_head`: scores the holistic map (one value per patch).
    public let holisticHead: ResidualHead
    /// `diff_head_ref`: scores the image-level residual (one value per embedding channel).
    public let imageHead: ResidualHead

    /// Reads every tensor from `tensors`; a missing or mis-shaped one is an error naming it.
    public init(from tensors: SafeTensorsFile, config: BundleConfig) throws(SafeTensorsError) {
        let embed = config.embedDim, hidden = config.adapterHidden
        adapter = Adapter(
            down: DenseLayer(
                weight: try tensors.floats("adapter.fc.0.weight", shape: [hidden, embed]), bias: [],
                inputs: embed, outputs: hidden),
            up: DenseLayer(
                weight: try tensors.floats("adapter.fc.2.weight", shape: [embed, hidden]), bias: [],
                inputs: hidden, outputs: embed))
        holisticHead = try Self.head("diff_head.", inputs: config.vision.patchCount, tensors)
        imageHead = try Self.head("diff_head_ref.", inputs: embed, tensors)
    }

    private static func head(_ prefix: String, inputs: Int, _ tensors: SafeTensorsFile) throws(SafeTensorsError) -> ResidualHead {
        let widths = [inputs, InCTRLArchitecture.headHidden1, InCTRLArchitecture.headHidden2, 1]
        var layers: [DenseLayer] = []
        for index in 0..<3 {
            let name = prefix + "projection\(index + 1)"
            layers.append(DenseLayer(
                weight: try tensors.floats(name + ".weight", shape: [widths[index + 1], widths[index]]),
                bias: try tensors.floats(name + ".bias", shape: [widths[index + 1]]),
                inputs: widths[index], outputs: widths[index + 1]))
        }
        func norm(_ index: Int) throws(SafeTensorsError) -> BatchNormInference {
            let name = prefix + "bn\(index)", width = [widths[index - 1]]
            return BatchNormInference(
                weight: try tensors.floats(name + ".weight", shape: width),
                bias: try tensors.floats(name + ".bias", shape: width),
                runningMean: try tensors.floats(name + ".running_mean", shape: width),
                runningVariance: try tensors.floats(name + ".running_var", shape: width))
        }
        return ResidualHead(
            projection1: layers[0], projection2: layers[1], projection3: layers[2], norm2: try norm(2), norm3: try norm(3))
    }
}
