extension BPEVocabulary {
    /// The token ids of one word, given as its UTF-8 bytes.
    ///
    /// Each byte starts as its own symbol, the last one in its `</w>` form. Then the adjacent
    /// pair whose merge rule ranks first is merged — every occurrence, left to right — and
    /// that repeats until no adjacent pair has a rule.
    func encodeWord(_ bytes: [UInt8]) -> [Int32] {
        guard let lastByte = bytes.last else { return [] }
        var symbols = bytes.dropLast().map { byteSymbols[Int($0)] }
        symbols.append(byteSymbols[Int(lastByte)] + Self.endOfWordOffset)

        while symbols.count > 1 {
            var best: (first: Int32, second: Int32, merge: Merge)?
            for index in 0..<(symbols.count - 1) {
                let first = symbols[index], second = symbols[index + 1]
                if let merge = merges[Self.pairKey(first, second)], merge.rank < best?.merge.rank ?? .max {
                    best = (first, second, merge)
                }
            }
            guard let best else { break }

            var merged: [Int32] = []
            merged.reserveCapacity(symbols.count)
            var index = 0
            while index < symbols.count {
                if index + 1 < symbols.count, symbols[index] == best.first, symbols[index + 1] == best.second {
                    merged.append(best.merge.result)
                    index += 2
                } else {
                    merged.append(symbols[index])
                    index += 1
                }
            }
            symbols = merged
        }
        return symbols
    }
}
