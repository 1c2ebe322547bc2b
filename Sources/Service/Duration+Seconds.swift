extension Duration {
    /// The duration as a number of seconds, the base unit of configuration, metrics and
    /// benchmark output.
    public var inSeconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
