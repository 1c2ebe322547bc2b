/// One kind of matrix product in a vision forward: `count` products of an `[rows, inner]`
/// matrix by an `[inner, columns]` one.
public struct VisionMatmul: Sendable, Equatable {
    /// What it computes (`qkv`, `fc1`, …).
    public var name: String
    /// Rows of the left operand and of the result (M).
    public var rows: Int
    /// The summed-over dimension (K).
    public var inner: Int
    /// Columns of the result (N).
    public var columns: Int
    /// How many such products one forward runs.
    public var count: Int
    /// True for a linear layer (packed weights on the right), false for attention's
    /// products of two activations.
    public var isLinear: Bool
    /// Whether a bias is added to the product (fused into the same matmul).
    public var hasBias: Bool

    /// Floating-point operations of all `count` products, a multiply-add counted as two.
    public var flops: Int { 2 * rows * inner * columns * count }
}

extension VisionConfig {
    /// Every matrix product of one forward on one image (docs/MODEL.md §1, vision forward),
    /// in the order they run; `embedDim` is the width of the pooled embedding. With
    /// `separateQueryKeyValue`, attention's input projection is three width → width products
    /// (q, k, v), as the tower runs it in bf16 (`QueryKeyValueProjection`), rather than one
    /// width → 3·width; the operations are the same.
    public func matmuls(embedDim: Int, separateQueryKeyValue: Bool = false) -> [VisionMatmul] {
        let tokens = patchCount + 1
        let headWidth = width / heads
        let projection = separateQueryKeyValue
            ? VisionMatmul(name: "q, k, v", rows: tokens, inner: width, columns: width, count: 3 * layers, isLinear: true, hasBias: true)
            : VisionMatmul(name: "qkv", rows: tokens, inner: width, columns: 3 * width, count: layers, isLinear: true, hasBias: true)
        return [
            VisionMatmul(
                name: "patch embed", rows: patchCount, inner: 3 * patchSize * patchSize, columns: width, count: 1,
                isLinear: true, hasBias: false),
            projection,
            VisionMatmul(
                name: "q·kᵀ", rows: tokens, inner: headWidth, columns: tokens, count: layers * heads, isLinear: false, hasBias: false),
            VisionMatmul(
                name: "attention·v", rows: tokens, inner: tokens, columns: headWidth, count: layers * heads,
                isLinear: false, hasBias: false),
            VisionMatmul(name: "out proj", rows: tokens, inner: width, columns: width, count: layers, isLinear: true, hasBias: true),
            VisionMatmul(name: "fc1", rows: tokens, inner: width, columns: mlpWidth, count: layers, isLinear: true, hasBias: true),
            VisionMatmul(name: "fc2", rows: tokens, inner: mlpWidth, columns: width, count: layers, isLinear: true, hasBias: true),
            VisionMatmul(name: "proj", rows: 1, inner: width, columns: embedDim, count: 1, isLinear: true, hasBias: false),
        ]
    }

    /// Floating-point operations of one forward's matrix products: ViT-B-16-plus-240 needs
    /// 54,761,168,896. LayerNorms, soft-max, GELU and the bias and residual additions (a few
    /// tenths of a percent more) are not counted, as FLOP counts of transformers usually
    /// leave them out.
    public func forwardFLOPs(embedDim: Int) -> Int {
        matmuls(embedDim: embedDim).reduce(0) { $0 + $1.flops }
    }
}
