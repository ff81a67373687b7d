import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The tests' one wait: checks `condition` every `interval` until it holds, and says whether it did before `timeout`
/// passed on the monotonic clock. What a test waits for is an event (a log line, a socket in /proc, a process's
/// end); the interval only bounds how late it is seen.
func waitUntil(
    timeout: Duration, every interval: Duration = .milliseconds(10), _ condition: () throws -> Bool
) rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while true {
        if try condition() { return true }
        guard clock.now < deadline else { return false }
        usleep(UInt32(interval / .microseconds(1)))
    }
}

/// The tests' one log waiter: waits until what `log` returns holds `text`, `count` times or more (the program
/// writes its line after the answer went out), and fails the test with the log when `timeout` seconds pass first.
func waitForLog(
    containing text: String, count: Int = 1, in log: () -> String, timeout: Double = 5,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let found = waitUntil(timeout: .seconds(timeout)) { log().components(separatedBy: text).count - 1 >= count }
    try #require(found, "expected \(count) of \(text) in the log:\n\(log())", sourceLocation: sourceLocation)
}
