import Testing

@testable import FastCGIDaemon

@Suite struct RespawnBackoffTests {
    @Test func workerThatRanAWhileIsReplacedAtOnce() {
        var backoff = RespawnBackoff()
        for _ in 0..<10 {
            #expect(backoff.delay(afterWorkerLived: .seconds(30)) == .zero)
        }
    }

    @Test func workersDyingYoungAreReplacedEverMoreSlowlyUpToACeiling() {
        var backoff = RespawnBackoff()
        let delays = (0..<10).map { _ in backoff.delay(afterWorkerLived: .milliseconds(10)) }
        #expect(delays[0] == .zero)
        #expect(delays[1] == .milliseconds(100))
        #expect(delays[2] == .milliseconds(200))
        #expect(delays[3] == .milliseconds(400))
        #expect(delays.last == .seconds(5))
        #expect(zip(delays, delays.dropFirst()).allSatisfy { $0 <= $1 })
    }

    /// An attacker can kill a worker that serves as often as it likes: that is never a reason to wait.
    @Test func aWorkerThatWasReadyIsReplacedAtOnceHoweverYoung() {
        var backoff = RespawnBackoff()
        for _ in 0..<10 {
            #expect(backoff.delay(afterWorkerLived: .milliseconds(10), wasReady: true) == .zero)
        }
        #expect(backoff.streak == 0)
    }

    @Test func aHealthyWorkerResetsTheStreak() {
        var backoff = RespawnBackoff()
        for _ in 0..<5 { _ = backoff.delay(afterWorkerLived: .milliseconds(10)) }
        #expect(backoff.delay(afterWorkerLived: .seconds(60)) == .zero)
        #expect(backoff.delay(afterWorkerLived: .milliseconds(10)) == .zero)
        #expect(backoff.delay(afterWorkerLived: .milliseconds(10)) == .milliseconds(100))
    }
}
