extension Duration {
    package var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    /// Seconds, as the flags take them.
    package var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

extension Double {
    /// `0.1`, `3600`: a number of seconds as a person writes it, without a trailing `.0`.
    package var formatted: String {
        self == rounded() ? String(Int(self)) : String(self)
    }
}
