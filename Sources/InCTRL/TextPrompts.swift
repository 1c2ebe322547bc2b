/// The text prompts of InCTRL's text prior, verbatim from the reference (docs/MODEL.md §3).
public enum TextPrompts {
    /// Class names that get a single pair of prompts instead of the template grid (the
    /// CIFAR-10 classes and "animal").
    static let singlePromptClasses: Set<String> = [
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck", "animal",
    ]

    static let normalStates = [
        "{}", "flawless {}", "perfect {}", "unblemished {}", "{} without flaw", "{} without defect", "{} without damage",
    ]

    static let anomalousStates = ["damaged {}", "{} with flaw", "{} with defect", "{} with damage"]

    static let templates = [
        "a cropped photo of the {}.", "a cropped photo of a {}.",
        "a close-up photo of a {}.", "a close-up photo of the {}.",
        "a bright photo of a {}.", "a bright photo of the {}.",
        "a dark photo of a {}.", "a dark photo of the {}.",
        "a jpeg corrupted photo of a {}.", "a jpeg corrupted photo of the {}.",
        "a blurry photo of the {}.", "a blurry photo of a {}.",
        "a photo of the {}.", "a photo of a {}.",
        "a photo of a small {}.", "a photo of the small {}.",
        "a photo of a large {}.", "a photo of the large {}.",
        "a photo of a {} for visual inspection.", "a photo of the {} for visual inspection.",
        "a photo of a {} for anomaly detection.", "a photo of the {} for anomaly detection.",
    ]

    /// The class name as the prompts use it: underscores become spaces (`metal_nut`).
    public static func displayName(_ className: String) -> String {
        className.replacingOccurrences(of: "_", with: " ")
    }

    /// Prompts describing a normal `className`: 154 (state-major: for each state, every
    /// template in order), or one for the single-prompt classes.
    public static func normal(for className: String) -> [String] {
        let name = displayName(className)
        if singlePromptClasses.contains(name) { return ["a photo of \(name) for anomaly detection."] }
        return grid(states: normalStates, name: name)
    }

    /// Prompts describing an anomalous `className`: 88, or one for the single-prompt classes.
    public static func anomalous(for className: String) -> [String] {
        let name = displayName(className)
        if singlePromptClasses.contains(name) { return ["a photo without \(name) for anomaly detection."] }
        return grid(states: anomalousStates, name: name)
    }

    /// Python's `str.format` with one `{}`: the argument is inserted once, never re-read.
    private static func fill(_ pattern: String, _ value: String) -> String {
        guard let hole = pattern.range(of: "{}") else { return pattern }
        return pattern.replacingCharacters(in: hole, with: value)
    }

    private static func grid(states: [String], name: String) -> [String] {
        states.flatMap { state in
            let filled = fill(state, name)
            return templates.map { fill($0, filled) }
        }
    }
}
