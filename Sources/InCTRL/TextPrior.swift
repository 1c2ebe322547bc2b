import Foundation

/// The class-name text features of InCTRL's text prior (docs/MODEL.md §3):
/// `f_n = l2n(mean over normal prompts of l2n(text(prompt)))`, likewise `f_a`.
/// Computed once per class name and cached.
public struct TextPrior: Sendable {
    /// The class name the prompts were built from.
    public let className: String
    /// `f_n`, unit length.
    public let normal: [Float]
    /// `f_a`, unit length.
    public let anomalous: [Float]

    /// Builds the prior from the text tower's (unnormalised) embeddings of
    /// ``TextPrompts/normal(for:)`` and ``TextPrompts/anomalous(for:)``.
    public init(className: String, normalEmbeddings: [[Float]], anomalousEmbeddings: [[Float]]) {
        self.className = className
        normal = l2Normalized(meanOfRows(normalEmbeddings.map(l2Normalized)))
        anomalous = l2Normalized(meanOfRows(anomalousEmbeddings.map(l2Normalized)))
    }

    /// A prior from features computed earlier (a cache, or a reference implementation).
    public init(className: String, normal: [Float], anomalous: [Float]) {
        self.className = className
        self.normal = normal
        self.anomalous = anomalous
    }

    /// `s_a = softmax(100 · [l2n(cls(q))·f_n, l2n(cls(q))·f_a])[1]`: how much more the image
    /// resembles the anomalous descriptions than the normal ones.
    public func anomalyProbability(embedding: [Float]) -> Float {
        let image = l2Normalized(embedding)
        let logits = [100 * dot(image, normal), 100 * dot(image, anomalous)]
        let largest = max(logits[0], logits[1])
        let exponentials = logits.map { ($0 - largest).exponential }
        return exponentials[1] / (exponentials[0] + exponentials[1])
    }
}
