/// The escaping and number syntax of the text exposition format 0.0.4.
enum PrometheusText {
    /// One sample line: `name{label="value",…} number`.
    static func sample(_ name: String, labels: [(String, String)], value: Double) -> String {
        guard !labels.isEmpty else { return "\(name) \(number(value))\n" }
        let pairs = labels.map { "\($0.0)=\"\(escapedLabelValue($0.1))\"" }
        return "\(name){\(pairs.joined(separator: ","))} \(number(value))\n"
    }

    /// A label value with `\`, `"` and line feeds escaped, as the format requires.
    static func escapedLabelValue(_ value: String) -> String {
        var escaped = ""
        for character in value.unicodeScalars {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// Help text with `\` and line feeds escaped (quotes stay as they are in help).
    static func escapedHelp(_ help: String) -> String {
        var escaped = ""
        for character in help.unicodeScalars {
            switch character {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// A number as Prometheus parses it: `+Inf`, `-Inf` and `NaN` by name, whole numbers
    /// as plain digits (`12`, not `12.0` or `1.2e1`), others in the shortest form that
    /// reads back exactly (`0.005`, `1e-07`).
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        // A whole double within Int64's range converts exactly, so its digits are exact too.
        if value == value.rounded(), value >= -0x1p63, value < 0x1p63 { return String(Int64(value)) }
        return "\(value)"
    }
}
