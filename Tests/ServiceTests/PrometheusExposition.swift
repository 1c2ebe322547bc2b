/// A strict reader of the Prometheus text exposition format 0.0.4, written from the format's
/// description, so tests can check rendered text by its meaning rather than its spelling.
struct PrometheusExposition {
    /// One sample line.
    struct Sample: Hashable, CustomStringConvertible {
        var name: String
        var labels: [String: String]
        var value: Double

        /// Equal when names and labels match and values are equal or both NaN; `le` labels
        /// compare as numbers (`1` and `1.0` name the same bucket).
        static func == (left: Sample, right: Sample) -> Bool {
            left.name == right.name && left.normalizedLabels == right.normalizedLabels
                && (left.value == right.value || (left.value.isNaN && right.value.isNaN))
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(name)
            hasher.combine(normalizedLabels)
        }

        var normalizedLabels: [String: String] {
            var labels = labels
            if let bound = labels["le"], let number = PrometheusExposition.parseNumber(bound) { labels["le"] = "\(number)" }
            return labels
        }

        var description: String { "\(name)\(labels.sorted { $0.key < $1.key }) \(value)" }
    }

    struct SyntaxError: Error, CustomStringConvertible {
        let line: Int
        let reason: String
        var description: String { "line \(line): \(reason)" }
    }

    var help: [String: String] = [:]
    var types: [String: String] = [:]
    var samples: [Sample] = []
    /// Family names in the order their TYPE lines appear.
    var familyOrder: [String] = []

    init(parsing text: String) throws {
        guard text.isEmpty || text.hasSuffix("\n") else { throw SyntaxError(line: 0, reason: "the text must end with a line feed") }
        var currentFamily: String?
        var seen = Set<[String]>()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().enumerated() {
            let number = index + 1
            if line.isEmpty { continue }
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let fields = line.dropFirst(7).split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                guard fields.count == 2 else { throw SyntaxError(line: number, reason: "comment without a name and text") }
                let name = String(fields[0])
                if line.hasPrefix("# HELP ") {
                    guard help[name] == nil else { throw SyntaxError(line: number, reason: "second HELP for \(name)") }
                    help[name] = try Self.unescape(fields[1], allowQuote: false, line: number)
                } else {
                    guard types[name] == nil else { throw SyntaxError(line: number, reason: "second TYPE for \(name)") }
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(fields[1]) else {
                        throw SyntaxError(line: number, reason: "unknown type \(fields[1])")
                    }
                    types[name] = String(fields[1])
                    familyOrder.append(name)
                    currentFamily = name
                }
                continue
            }
            if line.hasPrefix("#") { continue }
            let sample = try Self.sample(line, line: number)
            guard let family = currentFamily, Self.belongs(sample.name, to: family, type: types[family] ?? "") else {
                throw SyntaxError(line: number, reason: "sample \(sample.name) outside its family's TYPE block")
            }
            let key = [sample.name] + sample.normalizedLabels.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] }
            guard seen.insert(key).inserted else { throw SyntaxError(line: number, reason: "duplicate series \(sample)") }
            samples.append(sample)
        }
    }

    static func belongs(_ sampleName: String, to family: String, type: String) -> Bool {
        if type == "histogram" { return [family + "_bucket", family + "_sum", family + "_count"].contains(sampleName) }
        return sampleName == family
    }

    static func parseNumber(_ text: some StringProtocol) -> Double? {
        switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(String(text)).flatMap { $0.isFinite ? $0 : nil }
        }
    }

    private static func sample(_ line: Substring, line number: Int) throws -> Sample {
        var rest = line[...]
        let name = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" })
        guard !name.isEmpty else { throw SyntaxError(line: number, reason: "sample without a name") }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let labelName = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
                rest = rest.dropFirst(labelName.count)
                guard !labelName.isEmpty, rest.hasPrefix("=\"") else { throw SyntaxError(line: number, reason: "bad label") }
                rest = rest.dropFirst(2)
                var raw = ""
                while let character = rest.first, character != "\"" {
                    raw.append(character)
                    rest = rest.dropFirst()
                    if character == "\\", let escaped = rest.first {
                        raw.append(escaped)
                        rest = rest.dropFirst()
                    }
                }
                guard rest.first == "\"" else { throw SyntaxError(line: number, reason: "unterminated label value") }
                rest = rest.dropFirst()
                guard labels.updateValue(try unescape(raw[...], allowQuote: true, line: number), forKey: labelName) == nil else {
                    throw SyntaxError(line: number, reason: "label \(labelName) twice")
                }
                if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" {
                    throw SyntaxError(line: number, reason: "expected ',' or '}'")
                }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { throw SyntaxError(line: number, reason: "no space before the value") }
        let fields = rest.dropFirst().split(separator: " ")
        guard (1...2).contains(fields.count), let value = parseNumber(fields[0]) else {
            throw SyntaxError(line: number, reason: "bad value '\(rest.dropFirst())'")
        }
        return Sample(name: name, labels: labels, value: value)
    }

    private static func unescape(_ text: Substring, allowQuote: Bool, line: Int) throws -> String {
        var result = ""
        var iterator = text.makeIterator()
        while let character = iterator.next() {
            guard character == "\\" else {
                result.append(character)
                continue
            }
            switch iterator.next() {
            case "\\": result.append("\\")
            case "n": result.append("\n")
            case "\"" where allowQuote: result.append("\"")
            default: throw SyntaxError(line: line, reason: "bad escape in '\(text)'")
            }
        }
        return result
    }
}
