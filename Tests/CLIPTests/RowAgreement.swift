import Tensor

/// How closely each row of an output (a token of a residual stream, an embedding) follows
/// the same row of a reference, relative to the reference's largest magnitude.
///
/// bf16 comparisons count rows rather than take one maximum: when an activation lands next
/// to the midpoint between two bf16 values, one order of fp32 summation rounds it up and
/// another down, and that one-unit difference disturbs the rows it feeds. Two exact
/// implementations of the scheme therefore agree to summation-order noise on most rows and
/// differ visibly on a few.
struct RowAgreement: CustomStringConvertible {
    let label: String
    /// Per row, max |actual − expected| / max |expected|.
    let rowErrors: [Float]

    /// Compares `actual` with `expected` row by row; a vector counts as one row.
    init(_ label: String, _ actual: Tensor, _ expected: Tensor) throws {
        guard actual.shape == expected.shape, let columns = expected.shape.last, columns > 0 else {
            throw TensorError.shapeMismatch(
                operation: "row agreement", detail: "\(label): \(actual.shape) against \(expected.shape)")
        }
        self.label = label
        let scale = expected.maxAbsoluteValue
        let (values, targets) = (actual.scalars, expected.scalars)
        rowErrors = stride(from: 0, to: targets.count, by: columns).map { start in
            (start..<(start + columns)).reduce(Float(0)) { max($0, abs(values[$1] - targets[$1])) } / scale
        }
    }

    /// The rows whose error is at most `tolerance`.
    func rows(within tolerance: Float) -> Int { rowErrors.filter { $0 <= tolerance }.count }

    /// The largest row error: the usual max-abs error relative to the reference's scale.
    var maxError: Float { rowErrors.max() ?? 0 }
    /// The smallest row error.
    var minError: Float { rowErrors.min() ?? 0 }
    /// The median row error.
    var medianError: Float { rowErrors.sorted()[rowErrors.count / 2] }

    var description: String {
        "\(label): \(rowErrors.count) rows, relative error min \(minError), median \(medianError), max \(maxError)"
    }
}
