/// Why a call to the database failed, as the connection layer sees it. ``PostgresStore``
/// turns it into a `PromptSetStoreError`: ``connection(_:)`` and the SQLSTATEs of
/// ``isTransient`` into `.unavailable`, everything else into `.database`.
enum PostgresError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No working connection: connecting failed or timed out, or the connection broke.
    case connection(String)
    /// The server refused a statement, with its SQLSTATE and message.
    case statement(sqlState: String, message: String)
    /// A result did not have the shape the statement promises (a column missing or NULL).
    case unexpectedResult(String)

    /// Whether retrying later may succeed: the connection broke, or the server is shutting
    /// down, starting, out of resources, or cancelled the statement at `statement_timeout`.
    var isTransient: Bool {
        switch self {
        case .connection:
            true
        case let .statement(sqlState, _):
            // 08: connection exception; 53: insufficient resources; 57P01-57P03: admin
            // shutdown, crash shutdown, cannot connect now; 57014: statement timeout;
            // 40001/40P01: serialization failure and deadlock (the transaction rolled back).
            sqlState.hasPrefix("08") || sqlState.hasPrefix("53") || sqlState.hasPrefix("57P")
                || ["57014", "40001", "40P01"].contains(sqlState)
        case .unexpectedResult:
            false
        }
    }

    var description: String {
        switch self {
        case let .connection(message): message
        case let .statement(sqlState, message): "\(message) (SQLSTATE \(sqlState))"
        case let .unexpectedResult(message): message
        }
    }
}
