import Foundation

/// The tables of CLIP's byte-level BPE, read from `bpe_simple_vocab_16e6.txt.gz`, with every
/// symbol replaced by its token id.
///
/// The reference builds its vocabulary as strings: the 256 byte symbols (each byte mapped to
/// a printable character by `bytes_to_unicode`), the same 256 with `</w>` appended (a byte
/// that ends a word), then the concatenation of each merge rule in file order, then the two
/// special tokens. A symbol's id is its position in that list, so working on ids instead of
/// strings gives the same merges and the same output.
struct BPEVocabulary: Sendable {
    /// What a merge rule turns a pair of adjacent symbols into, and its priority.
    struct Merge: Sendable {
        /// Lower merges first: the rule's position among the merge lines.
        let rank: Int32
        /// The id of the two symbols joined.
        let result: Int32
    }

    /// Merge lines CLIP uses: lines 2 through 48,895 of the file (`49152 - 256 - 2` rules).
    static let mergeCount = 48_894

    /// Decompressed vocabularies are about 1.3 MB; refuse anything absurdly larger.
    static let decompressedSizeLimit = 64 << 20

    /// The id of each byte value as a symbol that does not end a word; add `endOfWordOffset`
    /// for the `</w>` form.
    let byteSymbols: [Int32]
    static let endOfWordOffset: Int32 = 256

    /// Merge rules keyed by their pair of symbol ids (`pairKey`).
    let merges: [UInt64: Merge]

    static func pairKey(_ first: Int32, _ second: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: first)) << 32 | UInt64(UInt32(bitPattern: second))
    }

    /// Reads and checks a gzip-compressed vocabulary file.
    init(contentsOf url: URL) throws(CLIPTokenizerError) {
        let path = url.path
        let compressed: Data
        do {
            compressed = try Data(contentsOf: url)
        } catch {
            if !FileManager.default.fileExists(atPath: path) { throw .vocabularyNotFound(path: path) }
            throw .vocabularyUnreadable(path: path, reason: error.localizedDescription)
        }
        let text: [UInt8]
        do {
            text = try Gzip.decompress([UInt8](compressed), limit: Self.decompressedSizeLimit)
        } catch {
            switch error {
            case .notGzip: throw .vocabularyNotGzip(path: path)
            case .tooLarge: throw .vocabularyTooLarge(path: path, limitBytes: Self.decompressedSizeLimit)
            case .corrupt(let reason): throw .vocabularyCorrupt(path: path, reason: reason)
            }
        }
        try self.init(text: text, path: path)
    }

    /// Builds the tables from the decompressed text; `path` only names the file in errors.
    init(text: [UInt8], path: String) throws(CLIPTokenizerError) {
        guard let decoded = String(validating: text, as: UTF8.self) else {
            throw .vocabularyNotUTF8(path: path)
        }
        let mergeLines = try Self.mergeLines(of: decoded, path: path)

        let byteOrder = Self.byteSymbolOrder
        let byteCharacters = Self.byteCharacters
        var symbolIDs: [String: Int32] = [:]
        symbolIDs.reserveCapacity(2 * byteOrder.count + mergeLines.count)
        for (position, byte) in byteOrder.enumerated() {
            let symbol = String(Character(byteCharacters[Int(byte)]))
            symbolIDs[symbol] = Int32(position)
            symbolIDs[symbol + "</w>"] = Int32(position) + Self.endOfWordOffset
        }
        let firstMergeID = Int32(2 * byteOrder.count)
        for (rank, merge) in mergeLines.enumerated() {
            symbolIDs[merge.first + merge.second] = firstMergeID + Int32(rank)
        }

        var merges: [UInt64: Merge] = [:]
        merges.reserveCapacity(mergeLines.count)
        for (rank, merge) in mergeLines.enumerated() {
            guard let first = symbolIDs[merge.first], let second = symbolIDs[merge.second],
                  let result = symbolIDs[merge.first + merge.second] else {
                throw .vocabularyMalformedMerge(path: path, line: merge.line, content: merge.first + " " + merge.second)
            }
            merges[Self.pairKey(first, second)] = Merge(rank: Int32(rank), result: result)
        }

        var byteSymbols = [Int32](repeating: 0, count: 256)
        for (position, byte) in byteOrder.enumerated() {
            byteSymbols[Int(byte)] = Int32(position)
        }
        self.byteSymbols = byteSymbols
        self.merges = merges
    }

    private struct MergeLine {
        let line: Int
        let first: String
        let second: String
    }

    /// Line 1 is a version header; the merge rules follow, two symbols per line.
    private static func mergeLines(of text: String, path: String) throws(CLIPTokenizerError) -> [MergeLine] {
        // Split on code points, not `Character`s: Python's `split('\n')` also splits `\r\n`.
        var lines = text.unicodeScalars
            .split(separator: "\n", maxSplits: mergeCount + 1, omittingEmptySubsequences: false)
            .dropFirst()
            .prefix(mergeCount)
        // A newline ending a short file leaves an empty last line that is not a rule.
        if lines.count < mergeCount, lines.last?.isEmpty == true { lines.removeLast() }
        guard lines.count == mergeCount else {
            throw .vocabularyTruncated(path: path, mergesFound: lines.count, mergesNeeded: mergeCount)
        }
        var merges: [MergeLine] = []
        merges.reserveCapacity(mergeCount)
        for (offset, line) in lines.enumerated() {
            // Python's `str.split()`: any run of whitespace separates, none at the ends.
            let symbols = line.split(whereSeparator: TextCleaning.isPythonWhitespace)
            let lineNumber = offset + 2
            guard symbols.count == 2 else {
                throw .vocabularyMalformedMerge(path: path, line: lineNumber, content: String(String.UnicodeScalarView(line)))
            }
            merges.append(MergeLine(line: lineNumber, first: String(String.UnicodeScalarView(symbols[0])),
                                    second: String(String.UnicodeScalarView(symbols[1]))))
        }
        return merges
    }

    /// `bytes_to_unicode`'s order: the printable Latin-1 bytes first (`!`–`~`, `¡`–`¬`,
    /// `®`–`ÿ`), then the other 68 bytes in increasing order. A byte's position here is its
    /// token id.
    static let byteSymbolOrder: [UInt8] = {
        let printable = Array(UInt8(0x21)...0x7E) + Array(UInt8(0xA1)...0xAC) + Array(UInt8(0xAE)...0xFF)
        let printableSet = Set(printable)
        return printable + (UInt8(0)...UInt8(255)).filter { !printableSet.contains($0) }
    }()

    /// `bytes_to_unicode` itself: printable bytes stand for themselves, and the others, in
    /// order, for U+0100, U+0101, … so that no symbol is whitespace or a control character.
    static let byteCharacters: [Unicode.Scalar] = {
        var characters = (0...255).map { Unicode.Scalar(UInt8($0)) }
        let printableCount = 188
        for (offset, byte) in byteSymbolOrder.dropFirst(printableCount).enumerated() {
            characters[Int(byte)] = Unicode.Scalar(UInt32(256 + offset))!
        }
        return characters
    }()
}
