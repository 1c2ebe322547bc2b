import Foundation
import Testing
@testable import Service

/// Ids come from content alone, tell apart every different set, and parse only as 32 hex digits.
@Suite struct PromptSetIDTests {
    @Test func sameContentGivesTheSameID() {
        let images = PromptSetTestData.images(set: 1)
        #expect(PromptSetID(className: "bottle", images: images) == PromptSetID(className: "bottle", images: images))
    }

    @Test func encodingMatchesAnIndependentComputation() {
        // SHA-256 of "inctrl-prompt-set-id/1\n" + u64le(6) "bottle" + u64le(2)
        // + u64le(3) "abc" + u64le(256) bytes 0...255, first 32 hex digits, computed with
        // Python's hashlib. A change here changes every stored set's id.
        let id = PromptSetID(className: "bottle", images: [Array("abc".utf8), (0...255).map { UInt8($0) }])
        #expect(id.hex == "01de9d19f2a1b7f17e8286e1bf15ba19")
    }

    @Test func anyDifferenceInContentGivesAnotherID() {
        let a = PromptSetTestData.png(seed: 1), b = PromptSetTestData.png(seed: 2)
        var flipped = a
        flipped[100] ^= 1
        let ids = [
            PromptSetID(className: "bottle", images: [a, b]),
            PromptSetID(className: "Bottle", images: [a, b]),
            PromptSetID(className: "bottle", images: [b, a]),
            PromptSetID(className: "bottle", images: [flipped, b]),
            PromptSetID(className: "bottle", images: [a]),
            // The same bytes split differently between images, or between name and image.
            PromptSetID(className: "bottle", images: [Array(a.prefix(10)), Array(a.dropFirst(10)) + b]),
            PromptSetID(className: "bottl", images: [Array("e".utf8) + a, b]),
        ]
        #expect(Set(ids).count == ids.count)
    }

    @Test func parsesExactlyThirtyTwoLowercaseHexDigits() {
        let valid = "0123456789abcdef0123456789abcdef"
        #expect(PromptSetID(valid)?.hex == valid)
        #expect(PromptSetID(Substring(valid))?.hex == valid)
        let invalid = [
            "", "0123456789abcdef0123456789abcde", valid + "0", "0123456789ABCDEF0123456789abcdef",
            "0123456789abcdef0123456789abcdeg", "../../../../etc/passwd0123456789a", "0123456789abcdef/123456789abcdef",
            " 123456789abcdef0123456789abcdef", "٠١٢٣٤٥٦٧٨٩abcdef0123456789abcdef", "0123456789abcdef0123456789abcd\u{301}f",
        ]
        for text in invalid {
            #expect(PromptSetID(text) == nil, "accepted \(text.debugDescription)")
        }
    }

    @Test func jsonRoundTripAndRefusal() throws {
        let id = PromptSetID(className: "screw", images: PromptSetTestData.images(set: 2))
        let encoded = try JSONEncoder().encode([id])
        #expect(String(decoding: encoded, as: UTF8.self) == "[\"\(id.hex)\"]")
        #expect(try JSONDecoder().decode([PromptSetID].self, from: encoded) == [id])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([PromptSetID].self, from: Data("[\"../etc\"]".utf8))
        }
    }
}
