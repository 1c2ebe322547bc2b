/// Why rows of the database do not make a prompt-set record: the set's id as stored, and
/// what is wrong.
struct RecordDefect: Error, Sendable {
    let name: String
    let reason: String
}
