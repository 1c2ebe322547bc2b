/// Request ids for the `X-Request-ID` header.
public enum HTTPRequestID {
    /// 32 random lowercase hex digits (128 bits from the system's generator).
    public static func fresh() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let half = String(generator.next(), radix: 16)
            return String(repeating: "0", count: 16 - half.count) + half
        }.joined()
    }
}
