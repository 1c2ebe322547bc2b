import CLIP
import InCTRL
import Testing
@testable import Service

/// Images being decoded hold places of the model queue: all or none, given back when
/// released or when the reservation ends unreleased (a decode that threw), and counted by
/// the head check's `haveRoom`.
struct DecodingQueriesTests {
    @Test func imagesBeingDecodedHoldQueuePlaces() throws {
        let bundle = try ModelBundle.open(try InCTRLServiceTests.bundle.get())
        let model = ModelActor(model: try InCTRLModel(bundle: bundle), capacity: 3)
        let decoding = DecodingQueries()

        guard let first = decoding.reserve(2, in: model) else {
            Issue.record("two places of three were refused")
            return
        }
        #expect(decoding.current == 2)
        #expect(decoding.haveRoom(for: 1, in: model))
        #expect(!decoding.haveRoom(for: 2, in: model))
        if let refused = decoding.reserve(2, in: model) {
            Issue.record("two more places were given where one was left")
            refused.release()
        }
        #expect(decoding.current == 2)
        do {
            guard let second = decoding.reserve(1, in: model) else {
                Issue.record("the last place was refused")
                return
            }
            #expect(decoding.current == 3)
            #expect(!decoding.haveRoom(for: 1, in: model))
            _ = consume second  // as when decoding throws: the places come back unreleased
        }
        #expect(decoding.current == 2)
        first.release()
        #expect(decoding.current == 0)
        #expect(decoding.haveRoom(for: 3, in: model))
    }
}
