#if canImport(Glibc)
import Glibc
#endif

extension ComputeEngine {
    /// Causal multi-head self-attention for many short sequences, as the text tower runs it:
    /// for every sequence, head and query position `i`,
    /// `output_i = Σ_{j ≤ i} softmax_j(scale · q_i·k_j) · v_j`.
    ///
    /// `projection` holds each sequence's fused `q | k | v` rows (`[length, 3·heads·headWidth]`,
    /// sequences one after another); head `h` of q is columns `h·headWidth..<(h+1)·headWidth`.
    /// `output` receives `[length, heads·headWidth]` per sequence.
    ///
    /// Why not oneDNN: text sequences are ~20 tokens long, so each head's products are a few
    /// thousand multiply-adds; oneDNN then spends far more on dispatch and thread
    /// synchronisation per call (thousands of calls per class name) than on arithmetic, and
    /// its matmul with a broadcast mask falls back to a reference kernel. Skipping the masked
    /// positions is exact: they would contribute `exp(−∞) = 0`.
    public func causalSelfAttention(
        projection: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        sequences: Int, length: Int, heads: Int, headWidth: Int, scale: Float
    ) {
        let width = heads * headWidth
        let fused = 3 * width
        var weights = [Float](repeating: 0, count: length)
        weights.withUnsafeMutableBufferPointer { weights in
            for sequence in 0..<sequences {
                let rows = projection + sequence * length * fused
                let outputRows = output + sequence * length * width
                for head in 0..<heads {
                    let column = head * headWidth
                    for query in 0..<length {
                        let q = rows + query * fused + column
                        var largest = -Float.infinity
                        for key in 0...query {
                            let k = rows + key * fused + width + column
                            var dot: Float = 0
                            for index in 0..<headWidth { dot += q[index] * k[index] }
                            let logit = dot * scale
                            weights[key] = logit
                            largest = max(largest, logit)
                        }
                        var total: Float = 0
                        for key in 0...query {
                            let weight = expf(weights[key] - largest)
                            weights[key] = weight
                            total += weight
                        }
                        let out = outputRows + query * width + column
                        out.update(repeating: 0, count: headWidth)
                        for key in 0...query {
                            let probability = weights[key] / total
                            let v = rows + key * fused + 2 * width + column
                            for index in 0..<headWidth { out[index] += probability * v[index] }
                        }
                    }
                }
            }
        }
    }
}
