#if canImport(Glibc)
import Glibc
#endif

extension ComputeEngine {
    /// Causal multi-head self-attention over a prefix tree of token sequences, as the text
    /// tower runs it. Row `i` is one token; `parents[i]` is the row of the token before it in
    /// its sequence (−1 for a first token), always an earlier row. For every row `i` and head,
    /// with `path(i)` the rows from the first token down to `i`:
    /// `output_i = Σ_{j ∈ path(i)} softmax_j(scale · q_i·k_j) · v_j`.
    ///
    /// Under a causal mask a token's state depends only on the tokens before it, so sequences
    /// that share a prefix share those rows: each distinct prefix is one row, computed once.
    /// A plain batch of sequences is the tree whose every row's parent is the row before it.
    ///
    /// `projection` holds each row's fused `q | k | v` (`[rows, 3·heads·headWidth]`); head `h`
    /// of q is columns `h·headWidth..<(h+1)·headWidth`. `output` receives
    /// `[rows, heads·headWidth]`.
    ///
    /// Why not oneDNN: text sequences are ~20 tokens long, so each head's products are a few
    /// thousand multiply-adds; oneDNN would spend far more on dispatch and thread
    /// synchronisation per call than on arithmetic, and its matmul with a broadcast mask falls
    /// back to a reference kernel. Skipping masked positions is exact: they would contribute
    /// `exp(−∞) = 0`.
    public func prefixTreeSelfAttention(
        projection: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        parents: [Int], heads: Int, headWidth: Int, scale: Float
    ) {
        let width = heads * headWidth
        let fused = 3 * width
        var path: [Int] = []
        var weights: [Float] = []
        for row in parents.indices {
            precondition(parents[row] < row, "a prefix-tree row's parent must come before it")
            // The path from the first token down to this one, in sequence order.
            path.removeAll(keepingCapacity: true)
            var node = row
            while node >= 0 {
                path.append(node)
                node = parents[node]
            }
            path.reverse()
            if weights.count < path.count { weights = [Float](repeating: 0, count: path.count) }

            let q = projection + row * fused
            let out = output + row * width
            for head in 0..<heads {
                let column = head * headWidth
                var largest = -Float.infinity
                for (slot, key) in path.enumerated() {
                    let k = projection + key * fused + width + column
                    let logit = Self.dot(q + column, k, count: headWidth) * scale
                    weights[slot] = logit
                    largest = max(largest, logit)
                }
                var total: Float = 0
                for slot in path.indices {
                    let weight = expf(weights[slot] - largest)
                    weights[slot] = weight
                    total += weight
                }
                let headOutput = out + column
                headOutput.update(repeating: 0, count: headWidth)
                for (slot, key) in path.enumerated() {
                    let v = projection + key * fused + 2 * width + column
                    Self.accumulate(weights[slot] / total, times: v, into: headOutput, count: headWidth)
                }
            }
        }
    }

    /// `Σ a[i]·b[i]`, sixteen lanes at a time (the lanes are summed at the end, so the order
    /// differs from a left-to-right sum by rounding only).
    private static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD16<Float>.zero
        var index = 0
        while index + 16 <= count {
            lanes += UnsafeRawPointer(a + index).loadUnaligned(as: SIMD16<Float>.self)
                * UnsafeRawPointer(b + index).loadUnaligned(as: SIMD16<Float>.self)
            index += 16
        }
        var sum = lanes.sum()
        while index < count {
            sum += a[index] * b[index]
            index += 1
        }
        return sum
    }

    /// `output[i] += scale · values[i]`.
    private static func accumulate(
        _ scale: Float, times values: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int
    ) {
        var index = 0
        while index + 16 <= count {
            let sum = UnsafeRawPointer(output + index).loadUnaligned(as: SIMD16<Float>.self)
                + scale * UnsafeRawPointer(values + index).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(output + index).storeBytes(of: sum, as: SIMD16<Float>.self)
            index += 16
        }
        while index < count {
            output[index] += scale * values[index]
            index += 1
        }
    }
}
