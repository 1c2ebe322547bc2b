/// The CLIP tensors a bundle must hold, by reference key name and shape (docs/MODEL.md §4).
///
/// InCTRL checkpoints carry no `logit_scale` (InCTRL never scales CLIP logits by it), so it
/// is not required; extra keys in a bundle are ignored.
///
/// One list serves three purposes: checking a bundle when it is opened, writing random
/// demo bundles, and naming the keys the checkpoint converter must find.
public enum CLIPArchitecture {
    /// Every tensor of both towers, vision first.
    public static func tensors(for config: BundleConfig) -> [WeightSpec] {
        visionTensors(config.vision, embedDim: config.embedDim)
            + textTensors(config.text, embedDim: config.embedDim)
    }

    /// Keys of one pre-norm residual block under `prefix` (`…resblocks.N.`).
    static func blockTensors(prefix: String, width: Int, mlpWidth: Int, layers: Int) -> [WeightSpec] {
        let attentionStd = 1 / Float(width).squareRoot()
        let projectionStd = attentionStd / Float(2 * layers).squareRoot()
        let fcStd = 1 / Float(2 * width).squareRoot()
        return layerNorm(prefix + "ln_1", width) + [
            WeightSpec(key: prefix + "attn.in_proj_weight", shape: [3 * width, width], initialisation: .normal(std: attentionStd)),
            WeightSpec(key: prefix + "attn.in_proj_bias", shape: [3 * width], initialisation: .constant(0)),
            WeightSpec(key: prefix + "attn.out_proj.weight", shape: [width, width], initialisation: .normal(std: projectionStd)),
            WeightSpec(key: prefix + "attn.out_proj.bias", shape: [width], initialisation: .constant(0)),
        ] + layerNorm(prefix + "ln_2", width) + [
            WeightSpec(key: prefix + "mlp.c_fc.weight", shape: [mlpWidth, width], initialisation: .normal(std: fcStd)),
            WeightSpec(key: prefix + "mlp.c_fc.bias", shape: [mlpWidth], initialisation: .constant(0)),
            WeightSpec(key: prefix + "mlp.c_proj.weight", shape: [width, mlpWidth], initialisation: .normal(std: projectionStd)),
            WeightSpec(key: prefix + "mlp.c_proj.bias", shape: [width], initialisation: .constant(0)),
        ]
    }

    static func layerNorm(_ prefix: String, _ width: Int) -> [WeightSpec] {
        [
            WeightSpec(key: prefix + ".weight", shape: [width], initialisation: .constant(1)),
            WeightSpec(key: prefix + ".bias", shape: [width], initialisation: .constant(0)),
        ]
    }

    static func visionTensors(_ vision: VisionConfig, embedDim: Int) -> [WeightSpec] {
        let scale = 1 / Float(vision.width).squareRoot()
        var specs = [
            WeightSpec(key: "visual.class_embedding", shape: [vision.width], initialisation: .normal(std: scale)),
            WeightSpec(key: "visual.positional_embedding", shape: [vision.patchCount + 1, vision.width], initialisation: .normal(std: scale)),
            WeightSpec(key: "visual.proj", shape: [vision.width, embedDim], initialisation: .normal(std: scale)),
            WeightSpec(
                key: "visual.conv1.weight", shape: [vision.width, 3, vision.patchSize, vision.patchSize],
                initialisation: .normal(std: 1 / Float(3 * vision.patchSize * vision.patchSize).squareRoot())),
        ]
        specs += layerNorm("visual.ln_pre", vision.width)
        for block in 0..<vision.layers {
            specs += blockTensors(
                prefix: "visual.transformer.resblocks.\(block).", width: vision.width,
                mlpWidth: vision.mlpWidth, layers: vision.layers)
        }
        specs += layerNorm("visual.ln_post", vision.width)
        return specs
    }

    static func textTensors(_ text: TextConfig, embedDim: Int) -> [WeightSpec] {
        var specs = [
            WeightSpec(key: "token_embedding.weight", shape: [text.vocabSize, text.width], initialisation: .normal(std: 0.02)),
            WeightSpec(key: "positional_embedding", shape: [text.contextLength, text.width], initialisation: .normal(std: 0.01)),
        ]
        for block in 0..<text.layers {
            specs += blockTensors(
                prefix: "transformer.resblocks.\(block).", width: text.width,
                mlpWidth: text.mlpWidth, layers: text.layers)
        }
        specs += layerNorm("ln_final", text.width)
        specs.append(WeightSpec(
            key: "text_projection", shape: [text.width, embedDim],
            initialisation: .normal(std: 1 / Float(text.width).squareRoot())))
        return specs
    }
}
