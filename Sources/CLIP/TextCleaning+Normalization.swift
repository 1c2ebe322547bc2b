import Foundation

extension TextCleaning {
    /// Unicode NFC, as Python's `unicodedata.normalize("NFC", text)` gives it.
    ///
    /// Foundation does the normalisation, but on Linux it does not compose a precomposed
    /// character with a following starter: a Hangul LV syllable and a trailing consonant
    /// (U+AC00 U+11A8 should become U+AC01), and KANNADA VOWEL SIGN O with the length mark
    /// (U+0CCA U+0CD5 should become U+0CCB) — the only such pairs a comparison of every
    /// canonical decomposition against Python found. Both are redone afterwards. A starter
    /// composes only with the starter right before it, so a second pass over NFC output is exact.
    static func canonicallyComposed(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        // Nothing below U+0300 changes under NFC or composes with what precedes it.
        if text.allSatisfy({ $0.value < 0x300 }) { return text }
        let composed = String(String.UnicodeScalarView(text)).precomposedStringWithCanonicalMapping
        return composingAdjacentStarters(Array(composed.unicodeScalars))
    }

    /// The compositions of two adjacent starters that Foundation misses (see above).
    static func composingAdjacentStarters(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var composed: [Unicode.Scalar] = []
        composed.reserveCapacity(text.count)
        for scalar in text {
            if let previous = composed.last, let pair = hangulSyllable(previous, scalar) ?? kannadaVowelSign(previous, scalar) {
                composed[composed.count - 1] = pair
            } else {
                composed.append(scalar)
            }
        }
        return composed
    }

    private static func kannadaVowelSign(_ first: Unicode.Scalar, _ second: Unicode.Scalar) -> Unicode.Scalar? {
        first == "\u{0CCA}" && second == "\u{0CD5}" ? "\u{0CCB}" : nil
    }

    private static let syllableBase: UInt32 = 0xAC00
    private static let leadingBase: UInt32 = 0x1100
    private static let vowelBase: UInt32 = 0x1161
    private static let trailingBase: UInt32 = 0x11A7
    private static let leadingCount: UInt32 = 19
    private static let vowelCount: UInt32 = 21
    private static let trailingCount: UInt32 = 28
    private static let syllableCount: UInt32 = leadingCount * vowelCount * trailingCount

    /// The Hangul syllable composition of Unicode §3.12: leading consonant + vowel → LV
    /// syllable, LV syllable + trailing consonant → LVT syllable.
    private static func hangulSyllable(_ first: Unicode.Scalar, _ second: Unicode.Scalar) -> Unicode.Scalar? {
        let lead = first.value, next = second.value
        if (leadingBase..<leadingBase + leadingCount).contains(lead),
           (vowelBase..<vowelBase + vowelCount).contains(next) {
            let syllable = syllableBase + ((lead - leadingBase) * vowelCount + (next - vowelBase)) * trailingCount
            return Unicode.Scalar(syllable)
        }
        if (syllableBase..<syllableBase + syllableCount).contains(lead),
           (lead - syllableBase) % trailingCount == 0,
           (trailingBase + 1..<trailingBase + trailingCount).contains(next) {
            return Unicode.Scalar(lead + (next - trailingBase))
        }
        return nil
    }
}
