import Testing

@testable import FastCGIDaemon

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
