import Foundation

/// CLIP's byte-level BPE tokenizer, giving token for token what `open_clip.tokenize` gives
/// (open_clip 3.3.0, `SimpleTokenizer` with `clean='lower'`).
///
/// Text is cleaned (`TextCleaning`: ftfy's fixes, HTML entities, whitespace, lower case),
/// split into words by CLIP's pattern, and each word's UTF-8 bytes are merged by the BPE
/// rules of `bpe_simple_vocab_16e6.txt.gz`. The one known difference from the reference is
/// that mojibake is not repaired (see `TextCleaning.fixText`).
///
/// A value is cheap to copy and safe to share between threads: copies share one word cache,
/// which is guarded by a lock.
public struct CLIPTokenizer: Sendable {
    /// `<start_of_text>`, the first token of every tokenized text.
    public static let startOfText: Int32 = 49406
    /// `<end_of_text>`, the token after the text; the text tower reads its features there.
    public static let endOfText: Int32 = 49407
    /// Number of token ids: 512 byte symbols, 48,894 merges, and the two special tokens.
    public static let vocabularySize = 49408
    /// The sequence length every CLIP text tower takes.
    public static let defaultContextLength = 77

    private let vocabulary: BPEVocabulary
    private let wordCache = WordCache(capacity: 100_000)

    /// Loads the vocabulary from `bpe_simple_vocab_16e6.txt.gz`, checking that it is complete.
    public init(vocabularyURL: URL) throws(CLIPTokenizerError) {
        vocabulary = try BPEVocabulary(contentsOf: vocabularyURL)
    }

    /// The token ids of `text` after cleaning, without the start and end tokens and not
    /// truncated. `<start_of_text>` and `<end_of_text>` written in the text count as those
    /// tokens, as in the reference.
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        for word in Self.words(in: TextCleaning.clean(text)) {
            switch word {
            case .special(let id):
                ids.append(id)
            case .text(let scalars):
                var bytes: [UInt8] = []
                bytes.reserveCapacity(scalars.count)
                for scalar in scalars {
                    UTF8.encode(scalar) { bytes.append($0) }
                }
                ids += wordCache.ids(for: bytes, encode: vocabulary.encodeWord)
            }
        }
        return ids
    }

    /// `[startOfText] + encode(text) + [endOfText]`, exactly `contextLength` long: longer
    /// sequences are cut and end with `endOfText` in the last position, shorter ones are
    /// padded with zeros. A `contextLength` below 1 gives an empty array.
    public func tokenize(_ text: String, contextLength: Int = defaultContextLength) -> [Int32] {
        guard contextLength > 0 else { return [] }
        var tokens = [Self.startOfText] + encode(text) + [Self.endOfText]
        if tokens.count > contextLength {
            tokens.removeLast(tokens.count - contextLength)
            tokens[contextLength - 1] = Self.endOfText
        }
        tokens += repeatElement(0, count: contextLength - tokens.count)
        return tokens
    }

    /// Number of distinct words remembered by the word cache.
    var cachedWordCount: Int { wordCache.count }
}
