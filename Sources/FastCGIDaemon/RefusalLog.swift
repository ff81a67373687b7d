/// Which refused connections a worker logs one by one, so that a peer that connects in a loop cannot fill the log.
///
/// The first `burst` refusals of each `interval` get a line of their own (`event=refused peer=ADDR`); the others are
/// counted, and the count is logged at most once an interval (`event=refused_unlogged count=N`), so every refusal
/// is still accounted for.
package struct RefusalLog: Sendable {
    package let burst: Int
    package let interval: Duration
    private var windowStart: ContinuousClock.Instant?
    private var loggedInWindow = 0
    private var lastCount: ContinuousClock.Instant?
    /// Refusals counted and not yet reported.
    package private(set) var unlogged = 0

    package init(burst: Int = 10, interval: Duration = .seconds(1)) {
        self.burst = burst
        self.interval = interval
    }

    /// Records a refusal at `now`; true if it gets a line of its own.
    package mutating func admit(at now: ContinuousClock.Instant) -> Bool {
        if let start = windowStart, now - start < interval {
            guard loggedInWindow < burst else {
                unlogged += 1
                return false
            }
        } else {
            windowStart = now
            loggedInWindow = 0
        }
        loggedInWindow += 1
        return true
    }

    /// The refusals counted since the last report, once an interval has passed since it, or at once when `final`
    /// (the worker is about to exit); nil when there is nothing to report yet.
    package mutating func takeUnlogged(at now: ContinuousClock.Instant, final: Bool = false) -> Int? {
        guard unlogged > 0 else { return nil }
        if !final, let last = lastCount, now - last < interval { return nil }
        lastCount = now
        defer { unlogged = 0 }
        return unlogged
    }
}
