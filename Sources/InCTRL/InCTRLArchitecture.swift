import CLIP

/// The tensors InCTRL adds on top of CLIP (docs/MODEL.md §3): the adapter and the two
/// residual heads, by reference key name and shape.
public enum InCTRLArchitecture {
    /// Width of each head's first projection.
    public static let headHidden1 = 128
    /// Width of each head's second projection.
    public static let headHidden2 = 64

    /// Every tensor a complete InCTRL bundle holds: both CLIP towers, then InCTRL's parts.
    /// Opening, converting and writing demo bundles all check against this list.
    public static func bundleTensors(for config: BundleConfig) -> [WeightSpec] {
        CLIPArchitecture.tensors(for: config) + tensors(for: config)
    }

    /// The adapter, `diff_head` (input: one value per patch) and `diff_head_ref` (input:
    /// the joint embedding).
    public static func tensors(for config: BundleConfig) -> [WeightSpec] {
        let embed = config.embedDim
        let hidden = config.adapterHidden
        return [
            WeightSpec(key: "adapter.fc.0.weight", shape: [hidden, embed], initialisation: linear(fanIn: embed)),
            WeightSpec(key: "adapter.fc.2.weight", shape: [embed, hidden], initialisation: linear(fanIn: hidden)),
        ]
            + headTensors(prefix: "diff_head.", inputWidth: config.vision.patchCount)
            + headTensors(prefix: "diff_head_ref.", inputWidth: embed)
    }

    /// `TransformerBasicHead`: three linear layers and three BatchNorms, of which `bn1`
    /// exists in checkpoints but is never applied.
    static func headTensors(prefix: String, inputWidth: Int) -> [WeightSpec] {
        var specs: [WeightSpec] = []
        for (index, (input, output)) in [(inputWidth, headHidden1), (headHidden1, headHidden2), (headHidden2, 1)].enumerated() {
            let name = prefix + "projection\(index + 1)"
            specs.append(WeightSpec(key: name + ".weight", shape: [output, input], initialisation: linear(fanIn: input)))
            specs.append(WeightSpec(key: name + ".bias", shape: [output], initialisation: linear(fanIn: input)))
        }
        for (index, width) in [inputWidth, headHidden1, headHidden2].enumerated() {
            let name = prefix + "bn\(index + 1)"
            specs += [
                WeightSpec(key: name + ".weight", shape: [width], initialisation: .constant(1)),
                WeightSpec(key: name + ".bias", shape: [width], initialisation: .constant(0)),
                WeightSpec(key: name + ".running_mean", shape: [width], initialisation: .constant(0)),
                WeightSpec(key: name + ".running_var", shape: [width], initialisation: .constant(1)),
            ]
        }
        return specs
    }

    /// PyTorch's default `nn.Linear` initialisation bound, `1/sqrt(fan_in)`.
    private static func linear(fanIn: Int) -> WeightSpec.Initialisation {
        .uniform(bound: 1 / Float(fanIn).squareRoot())
    }
}
