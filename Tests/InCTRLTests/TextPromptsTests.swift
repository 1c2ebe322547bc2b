import Testing
@testable import InCTRL

/// The prompt lists, checked against the reference's construction order.
@Suite struct TextPromptsTests {
    @Test func templateGridIsStateMajor() {
        let normal = TextPrompts.normal(for: "metal_nut")
        let anomalous = TextPrompts.anomalous(for: "metal_nut")
        #expect(normal.count == 154)
        #expect(anomalous.count == 88)
        #expect(normal[0] == "a cropped photo of the metal nut.")
        #expect(normal[21] == "a photo of the metal nut for anomaly detection.")
        #expect(normal[22] == "a cropped photo of the flawless metal nut.")
        #expect(normal[153] == "a photo of the metal nut without damage for anomaly detection.")
        #expect(anomalous[0] == "a cropped photo of the damaged metal nut.")
        #expect(anomalous[87] == "a photo of the metal nut with damage for anomaly detection.")
        #expect(Set(normal).count == 154)
    }

    @Test func singlePromptClassesAfterUnderscoreReplacement() {
        #expect(TextPrompts.normal(for: "dog") == ["a photo of dog for anomaly detection."])
        #expect(TextPrompts.anomalous(for: "dog") == ["a photo without dog for anomaly detection."])
        #expect(TextPrompts.normal(for: "hot_dog").count == 154)
    }

    @Test func braceInAClassNameIsInsertedLiterally() {
        // Python's str.format inserts the argument once and never re-reads it.
        #expect(TextPrompts.normal(for: "part {}")[0] == "a cropped photo of the part {}.")
    }
}
