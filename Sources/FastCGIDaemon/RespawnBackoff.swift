/// How long the supervisor waits before replacing a worker that died.
///
/// A worker that got ready to serve and then died (a crafted record that aborts libfcgi, say) is replaced at once,
/// however soon: the others keep serving, and capacity comes back quickly. Workers that die before they are ready,
/// young, again and again (a broken setup), are replaced ever more slowly, up to a ceiling, so a crash loop does
/// not spin the machine.
package struct RespawnBackoff: Sendable {
    package let youngLifetime: Duration
    package let firstDelay: Duration
    package let maximumDelay: Duration
    /// Deaths in a row of workers that died young.
    package private(set) var streak = 0

    package init(
        youngLifetime: Duration = .seconds(1), firstDelay: Duration = .milliseconds(100),
        maximumDelay: Duration = .seconds(5)
    ) {
        self.youngLifetime = youngLifetime
        self.firstDelay = firstDelay
        self.maximumDelay = maximumDelay
    }

    /// Records a death after `lifetime` and returns the wait before the replacement starts. An attacker can kill a
    /// ready worker at will; only a worker that never got ready says the setup is broken.
    package mutating func delay(afterWorkerLived lifetime: Duration, wasReady: Bool = false) -> Duration {
        guard !wasReady, lifetime < youngLifetime else {
            streak = 0
            return .zero
        }
        streak += 1
        if streak == 1 { return .zero }
        var delay = firstDelay
        for _ in 2..<streak where delay < maximumDelay {
            delay *= 2
        }
        return min(delay, maximumDelay)
    }
}
