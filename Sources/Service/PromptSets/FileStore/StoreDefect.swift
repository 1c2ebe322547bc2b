/// What is wrong with a stored set, in words for its quarantine report.
struct StoreDefect: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
