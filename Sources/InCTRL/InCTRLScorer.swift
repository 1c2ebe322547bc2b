import Tensor

/// The four scores InCTRL combines, reported with every result.
public struct ScoreComponents: Sendable, Equatable, Codable {
    /// `s_p`: the largest entry of the patch residual map.
    public let patch: Float
    /// `s_i`: `diff_head_ref` on the image-level residual.
    public let image: Float
    /// `s_a`: the text prior's anomaly probability.
    public let text: Float
    /// `s_h`: `diff_head` on the holistic map.
    public let holistic: Float
}

/// One query's result.
public struct InCTRLScore: Sendable, Equatable {
    /// `(s_h + s_p) / 2`, the anomaly score.
    public let score: Float
    /// The parts it was combined from.
    public let components: ScoreComponents
    /// `M`: the mean over tap layers of each patch's distance to its nearest normal patch,
    /// row-major over the patch grid (225 values for 15×15), each in [0, 1].
    public let residualMap: [Float]
}

/// Scores a query's image features against a prompt set, exactly as docs/MODEL.md §3 states.
public struct InCTRLScorer: Sendable {
    /// The adapter and the two heads.
    public let weights: InCTRLWeights
    /// Runs the similarity products.
    public let engine: ComputeEngine

    /// A scorer over `weights`.
    public init(weights: InCTRLWeights, engine: ComputeEngine) {
        self.weights = weights
        self.engine = engine
    }

    /// The anomaly score of `query`.
    public func score(query: ImageFeatures, promptSet: PromptSetFeatures, textPrior: TextPrior) throws(TensorError) -> InCTRLScore {
        // Patch-level residual: nearest normal patch per layer, then the mean over layers.
        let residualMap = try patchResidualMap(query: query, promptSet: promptSet)
        let patchScore = residualMap.max() ?? 0

        // Image-level residual: the adapted prototype minus the adapted query (this order).
        let adaptedQuery = weights.adapter(query.embedding)
        let imageResidual = zip(promptSet.prototype, adaptedQuery).map { $0 - $1 }
        let imageScore = weights.imageHead(imageResidual)

        // Text prior.
        let textScore = textPrior.anomalyProbability(embedding: query.embedding)

        // Holistic: the scalars broadcast onto the map, added in the reference's order.
        let scalarSum = textScore + imageScore
        let holisticMap = residualMap.map { scalarSum + $0 }
        let holisticScore = weights.holisticHead(holisticMap)

        return InCTRLScore(
            score: (holisticScore + patchScore) / 2,
            components: ScoreComponents(patch: patchScore, image: imageScore, text: textScore, holistic: holisticScore),
            residualMap: residualMap)
    }

    /// `M[p] = mean_l min_j 0.5·(1 − Q_l[p]·R_l[j])`, one `[P × P·K]` similarity product per
    /// layer. Because `0.5·(1 − s)` falls as `s` rises, the row minimum is taken as
    /// `0.5·(1 − max_j s)`, which rounds identically; every distance is then at least 0.
    public func patchResidualMap(query: ImageFeatures, promptSet: PromptSetFeatures) throws(TensorError) -> [Float] {
        precondition(query.taps.count == promptSet.normalizedTaps.count, "query and prompt set have different tap layers")
        var perLayer: [[Float]] = []
        for (tap, normals) in zip(query.taps, promptSet.normalizedTaps) {
            let queryRows = try engine.l2NormalizedRows(tap)
            let similarity = try engine.matmul(queryRows, normals, transposingB: true)
            let columns = similarity.shape[1]
            let distances = similarity.withUnsafeBufferPointer { values in
                (0..<similarity.shape[0]).map { row in
                    var best = -Float.infinity
                    for column in 0..<columns { best = max(best, values[row * columns + column]) }
                    // Rounding can put a unit vector's dot product with itself a hair above 1;
                    // the distance is clamped at 0 (a change of at most ~1e-7 from the reference).
                    return max(0, 0.5 * (1 - best))
                }
            }
            perLayer.append(distances)
        }
        return meanOfRows(perLayer)
    }
}
