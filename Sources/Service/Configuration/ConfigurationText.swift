import Logging

/// Reading numbers from environment variables, strictly: decimal digits with an optional
/// minus sign and (for seconds) fraction; no spaces, exponents, hexadecimal, `inf` or `nan`.
enum ConfigurationText {
    /// `text` as a whole number: optional `-`, then decimal digits.
    static func integer(_ text: String) -> Int? {
        guard isDecimal(text, allowsFraction: false) else { return nil }
        return Int(text)
    }

    /// `text` as a decimal number: optional `-`, digits, and an optional fraction.
    static func decimal(_ text: String) -> Double? {
        guard isDecimal(text, allowsFraction: true) else { return nil }
        return Double(text)
    }

    private static func isDecimal(_ text: String, allowsFraction: Bool) -> Bool {
        var digits = Substring(text)
        if digits.first == "-" { digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 1 || allowsFraction else { return false }
        return parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }

    /// `number` as a JSON number literal: whole numbers without a fraction, others in the
    /// shortest form that reads back exactly.
    static func literal(_ number: Double) -> String {
        if number.isFinite, number == number.rounded(), abs(number) < 1e15 {
            return String(Int64(number))
        }
        return "\(number)"
    }
}
