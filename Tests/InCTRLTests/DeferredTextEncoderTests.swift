import CLIP
import Synchronization
import Testing
@testable import InCTRL

/// The text tower loads on its own thread and callers wait for it (`InCTRLModelTests`'
/// text-prior parity runs through it); a failed load is the error every caller gets.
struct DeferredTextEncoderTests {
    @Test func aFailedLoadIsWhatEveryCallerGets() {
        let attempts = Atomic<Int>(0)
        let encoder = DeferredTextEncoder { () throws(InCTRLError) in
            attempts.add(1, ordering: .relaxed)
            throw .tokenizer(.vocabularyUnreadable(path: "vocab.txt.gz", reason: "gone"))
        }
        for _ in 0..<2 {
            #expect(throws: InCTRLError.self) { try encoder.loaded() }
        }
        #expect(encoder.isFinished)
        #expect(attempts.load(ordering: .relaxed) == 1)
    }
}
