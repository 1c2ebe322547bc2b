/// Why a CLIP tokenizer vocabulary (`bpe_simple_vocab_16e6.txt.gz`) could not be loaded.
/// Every case names the file; `description` says what to do about it.
public enum CLIPTokenizerError: Error, Equatable, CustomStringConvertible {
    /// Nothing exists at the path.
    case vocabularyNotFound(path: String)
    /// The file exists but could not be read (permissions, a directory, an I/O error).
    case vocabularyUnreadable(path: String, reason: String)
    /// The file does not start with the gzip signature.
    case vocabularyNotGzip(path: String)
    /// zlib rejected the compressed data, or it ended before the gzip stream did.
    case vocabularyCorrupt(path: String, reason: String)
    /// It decompresses to more than any CLIP vocabulary holds.
    case vocabularyTooLarge(path: String, limitBytes: Int)
    /// The decompressed text is not valid UTF-8.
    case vocabularyNotUTF8(path: String)
    /// Fewer merge rules than CLIP's vocabulary needs, so token ids would shift.
    case vocabularyTruncated(path: String, mergesFound: Int, mergesNeeded: Int)
    /// A merge line that is not two symbols, or names a symbol the vocabulary lacks.
    case vocabularyMalformedMerge(path: String, line: Int, content: String)

    public var description: String {
        let remedy = "use the bpe_simple_vocab_16e6.txt.gz shipped with open_clip (scripts/fetch-vocab puts it in .cache/)"
        switch self {
        case .vocabularyNotFound(let path):
            return "no tokenizer vocabulary at \(path); \(remedy)"
        case .vocabularyUnreadable(let path, let reason):
            return "cannot read the tokenizer vocabulary \(path): \(reason)"
        case .vocabularyNotGzip(let path):
            return "the tokenizer vocabulary \(path) is not gzip-compressed; \(remedy)"
        case .vocabularyCorrupt(let path, let reason):
            return "the tokenizer vocabulary \(path) is corrupt (\(reason)); \(remedy)"
        case .vocabularyTooLarge(let path, let limitBytes):
            return "the tokenizer vocabulary \(path) decompresses to more than \(limitBytes) bytes, "
                + "far more than CLIP's; \(remedy)"
        case .vocabularyNotUTF8(let path):
            return "the tokenizer vocabulary \(path) is not UTF-8 text; \(remedy)"
        case .vocabularyTruncated(let path, let mergesFound, let mergesNeeded):
            return "the tokenizer vocabulary \(path) has \(mergesFound) merge rules where CLIP needs "
                + "\(mergesNeeded); it is truncated or a different vocabulary; \(remedy)"
        case .vocabularyMalformedMerge(let path, let line, let content):
            return "line \(line) of the tokenizer vocabulary \(path) is not a merge of two known symbols: "
                + "\"\(content)\"; \(remedy)"
        }
    }
}
