import Testing

@testable import FastCGIDaemon

@Suite struct ListenAddressTests {
    @Test(arguments: [
        (
            "/run/oauth-forward-cgi/oauth-forward-cgi.sock",
            ListenAddress.unix(path: "/run/oauth-forward-cgi/oauth-forward-cgi.sock")
        ),
        ("./fcgi.sock", .unix(path: "./fcgi.sock")),
        ("127.0.0.1:9000", .ipv4(address: "127.0.0.1", port: 9000)),
        ("0.0.0.0:1", .ipv4(address: "0.0.0.0", port: 1)),
        ("[::1]:9000", .ipv6(address: "::1", port: 9000)),
        ("[2001:db8::1]:65535", .ipv6(address: "2001:db8::1", port: 65535)),
    ])
    func acceptsPathsAndNumericAddresses(value: String, expected: ListenAddress) throws {
        #expect(try ListenAddress(parsing: value) == expected)
    }

    @Test(arguments: [
        ("", ListenAddressError.empty), ("localhost:9000", .hostName), ("example.com:80", .hostName),
        ("127.0.0.1", .malformed), ("9000", .malformed), ("127.0.0.1:0", .badPort), ("127.0.0.1:65536", .badPort),
        ("127.0.0.1:x", .badPort), ("256.0.0.1:9000", .malformed), ("[::1]", .malformed), ("[::1:9000", .malformed),
        ("/" + String(repeating: "a", count: 107), .unixPathTooLong),
        // Refused here, by inet_pton, rather than after a socket was made: the hand-written check let them by.
        ("[:]:9000", .malformed), ("[1.2.3.4]:9000", .malformed), ("[::1::2]:9000", .malformed),
        ("01.2.3.4:9000", .malformed), ("1.2.3:9000", .malformed),
    ])
    func refusesTheRest(value: String, expected: ListenAddressError) {
        #expect(throws: expected) { try ListenAddress(parsing: value) }
        #expect(expected.message.contains("--listen"))
    }
}

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

@Suite struct WorkerSettingsTests {
    /// What the supervisor writes for a worker is what the worker reads, to the millisecond.
    @Test(arguments: [
        WorkerSettings(supervisor: 42), WorkerSettings.spawned, WorkerSettings(supervisor: 9, readyFD: 3),
        WorkerSettings(
            threads: 3, idleTimeout: .milliseconds(100), requestTimeout: .milliseconds(1500), grace: .zero,
            supervisor: 7),
    ])
    func argumentsRoundTrip(settings: WorkerSettings) {
        #expect(WorkerSettings(arguments: settings.arguments) == settings)
    }

    @Test(arguments: [
        [], ["--threads"], ["--threads", "x"], ["--threads", "1", "--threads", "2"],
        ["--threads", "1", "--idle-timeout-ms", "5", "--request-timeout-ms", "5", "--grace-ms", "5", "--other", "1"],
    ])
    func otherArgumentsAreRefused(arguments: [String]) {
        #expect(WorkerSettings(arguments: arguments) == nil)
    }
}
