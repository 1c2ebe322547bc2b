import CLIP
import Foundation
import Tensor
import Testing

@Suite struct TextTowerTests {
    let fixture: CLIPFixture
    let tower: TextTower

    init() throws {
        fixture = try CLIPFixture()
        let engine = try ComputeEngine()
        let config = fixture.bundle.config
        tower = TextTower(
            weights: try TextWeights(loading: fixture.bundle.tensors, config: config.text, embedDim: config.embedDim, engine: engine),
            engine: engine)
    }

    @Test func matchesOpenCLIP() throws {
        let rows = try fixture.tokenRows()
        #expect(rows.count == 5)
        let embeddings = try tower.encode(rows)
        #expect(embeddings.shape == [rows.count, 32])
        let expected = try Tensor(shape: [rows.count, 32], scalars: fixture.reference.floats("text"))
        for index in rows.indices {
            let result = try expectClose(embeddings.rows(index..<(index + 1)), expected.rows(index..<(index + 1)))
            #expect(result.ok, "prompt \(index): max error \(result.error) at scale \(result.scale)")
        }
    }

    /// Encoding a prompt alone cuts it at its own end-of-text, in a batch at the longest
    /// one: the causal mask makes both the same up to rounding.
    @Test func aloneMatchesInBatch() throws {
        let rows = try fixture.tokenRows()
        let batch = try tower.encode(rows)
        for (index, row) in rows.enumerated() {
            let alone = try tower.encode([row])
            let result = try expectClose(alone, batch.rows(index..<(index + 1)))
            #expect(result.ok, "prompt \(index): max error \(result.error)")
        }
    }

    /// Prompts that share prefixes (duplicates, a changed word, a shorter prompt that is a
    /// prefix of a longer one), in any order and split over many small passes, give what each
    /// gives alone.
    @Test(arguments: [TextTower.defaultRowsPerPass, 8])
    func sharedPrefixesAndSmallPassesMatchEncodingAlone(rowsPerPass: Int) throws {
        let rows = try fixture.tokenRows()
        let endOfText: Int64 = 49407
        var variant = rows[1]
        variant[2] = 1000
        // The longest prompt, cut after its third token: a prefix of it.
        let longest = try #require(rows.max { ($0.firstIndex(of: endOfText) ?? 0) < ($1.firstIndex(of: endOfText) ?? 0) })
        var truncated = longest
        let end = try #require(truncated.firstIndex(of: endOfText))
        try #require(end > 4)
        truncated[3] = endOfText
        for index in 4...end { truncated[index] = 0 }
        let prompts = [rows[3], rows[0], variant, rows[1], rows[0], truncated, rows[2], rows[4], rows[3]]

        let engine = try ComputeEngine()
        let config = fixture.bundle.config
        let small = TextTower(
            weights: try TextWeights(loading: fixture.bundle.tensors, config: config.text, embedDim: config.embedDim, engine: engine),
            engine: engine, rowsPerPass: rowsPerPass)
        let together = try small.encode(prompts)
        for (index, prompt) in prompts.enumerated() {
            let alone = try tower.encode([prompt])
            let result = try expectClose(together.rows(index..<(index + 1)), alone)
            #expect(result.ok, "prompt \(index): max error \(result.error) at scale \(result.scale)")
        }
        #expect(try together.rows(1..<2) == together.rows(4..<5))
    }

    @Test func rejectsBadTokenRows() throws {
        let rows = try fixture.tokenRows()
        #expect(throws: CLIPError.self) { try tower.encode([Array(rows[0].prefix(76))]) }
        var outOfRange = rows[0]
        outOfRange[3] = 49408
        #expect(throws: CLIPError.self) { try tower.encode([outOfRange]) }
        var negative = rows[0]
        negative[3] = -1
        #expect(throws: CLIPError.self) { try tower.encode([negative]) }
        #expect(try tower.encode([[Int]]()).shape == [0, 32])
    }
}
