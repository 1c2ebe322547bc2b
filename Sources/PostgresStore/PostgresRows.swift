/// The rows a statement returned, copied out of libpq's result in binary format: a `bytea`
/// column holds its bytes, a `text` column its UTF-8. Statements cast other types to text
/// (`created_at` as epoch seconds, `real` as its shortest exact decimal), so every value is
/// read one of those two ways.
struct PostgresRows: Sendable {
    /// Each row's values, NULL as nil.
    let rows: [[[UInt8]?]]
    /// The number of rows a command changed (`INSERT`, `UPDATE`, `DELETE`), else 0.
    let affected: Int

    var count: Int { rows.count }
    var isEmpty: Bool { rows.isEmpty }

    /// The bytes of row `row`, column `column`; throws when NULL.
    func bytes(_ row: Int, _ column: Int) throws(PostgresError) -> [UInt8] {
        guard let value = rows[row][column] else { throw .unexpectedResult("column \(column) of row \(row) is NULL") }
        return value
    }

    /// The text of row `row`, column `column`; throws when NULL.
    func text(_ row: Int, _ column: Int) throws(PostgresError) -> String {
        String(decoding: try bytes(row, column), as: UTF8.self)
    }

    /// The text of row `row`, column `column`, or nil when NULL.
    func optionalText(_ row: Int, _ column: Int) -> String? {
        rows[row][column].map { String(decoding: $0, as: UTF8.self) }
    }

    /// The integer (cast to text by the statement) of row `row`, column `column`.
    func int(_ row: Int, _ column: Int) throws(PostgresError) -> Int {
        let text = try text(row, column)
        guard let value = Int(text) else { throw .unexpectedResult("column \(column) of row \(row) is '\(text)', not an integer") }
        return value
    }
}
