/// A parameter of a statement, sent apart from its SQL text so no value is ever quoted
/// into SQL.
enum PostgresParameter: Sendable {
    /// Text, sent in text format: the server parses it as the type the statement gives
    /// (`$1::int`), so numbers travel as their decimal text.
    case text(String)
    /// Bytes, sent in binary format (a `bytea` as is, without hex or escaping).
    case bytes([UInt8])
    /// SQL NULL.
    case null

    /// An integer, as text.
    static func int(_ value: Int) -> PostgresParameter { .text(String(value)) }
}
