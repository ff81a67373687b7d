import Testing

@testable import FastCGIDaemon

@Suite struct RefusalLogTests {
    let start = ContinuousClock.now

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

    @Test func theFirstOfEachIntervalGetLinesTheRestAreCounted() {
        var log = RefusalLog(burst: 3, interval: .seconds(1))
        let first = (0..<5).map { log.admit(at: at($0 * 10)) }
        #expect(first == [true, true, true, false, false])
        #expect(log.unlogged == 2)
        // A new interval: lines again.
        let next = log.admit(at: at(1000))
        #expect(next)
        #expect(log.unlogged == 2)
    }

    @Test func countsAreReportedAtMostOnceAnInterval() {
        var log = RefusalLog(burst: 1, interval: .seconds(1))
        var reports: [Int?] = []
        reports.append(log.takeUnlogged(at: at(0)))
        for _ in 0..<3 { _ = log.admit(at: at(0)) }
        reports.append(log.takeUnlogged(at: at(100)))
        reports.append(log.takeUnlogged(at: at(200)))
        _ = log.admit(at: at(300))
        reports.append(log.takeUnlogged(at: at(400)))
        reports.append(log.takeUnlogged(at: at(1100)))
        // A worker about to exit reports what is left at once. (The first of the new interval gets its line.)
        for _ in 0..<2 { _ = log.admit(at: at(1150)) }
        reports.append(log.takeUnlogged(at: at(1200), final: true))
        #expect(reports == [nil, 2, nil, nil, 1, 1])
        #expect(log.unlogged == 0)
    }

    /// Whatever the timing, each refusal is either a line or in exactly one count.
    @Test func everyRefusalIsAccountedFor() {
        var log = RefusalLog(burst: 10, interval: .milliseconds(100))
        var lines = 0
        var counted = 0
        for step in 0..<5000 {
            let now = start + .microseconds(step * 300)
            if log.admit(at: now) { lines += 1 }
            if step % 50 == 0, let count = log.takeUnlogged(at: now) { counted += count }
        }
        counted += log.takeUnlogged(at: start + .seconds(60), final: true) ?? 0
        #expect(lines + counted == 5000)
        #expect(lines < 5000 / 2)
    }
}
