/// A set's effective threshold and its source, as listings show it.
struct PromptSetThreshold: Encodable {
    let value: Float?
    let source: Decision.Source

    init(_ choice: ThresholdChoice) {
        value = choice.value
        source = choice.source
    }

    enum CodingKeys: String, CodingKey { case value, source }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(value, forKey: .value)
        try container.encode(source, forKey: .source)
    }
}
