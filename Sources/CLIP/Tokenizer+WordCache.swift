import Foundation

/// Token ids of words already encoded. Prompts repeat the same few words, so after the
/// first prompt nearly every word is a lookup.
///
/// Shared by every copy of a tokenizer and safe to use from several threads at once: a lock
/// guards the table, held only to look up or insert, never while encoding. The table is
/// emptied when it reaches `capacity` words, so text from clients cannot grow it without bound.
final class WordCache: @unchecked Sendable {
    private let lock = NSLock()
    private var idsByWord: [[UInt8]: [Int32]] = [:]
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The cached ids of `word`, or `encode(word)`, remembered for next time.
    func ids(for word: [UInt8], encode: ([UInt8]) -> [Int32]) -> [Int32] {
        if let cached = withLock({ idsByWord[word] }) { return cached }
        let ids = encode(word)
        withLock {
            if idsByWord.count >= capacity { idsByWord.removeAll(keepingCapacity: true) }
            idsByWord[word] = ids
        }
        return ids
    }

    /// How many words are cached now.
    var count: Int { withLock { idsByWord.count } }

    private func withLock<Result>(_ body: () -> Result) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }
}
