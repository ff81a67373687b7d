import FastCGIDaemon
import Foundation
import Testing

@Suite struct ReloadPlanTests {
    @Test func roundTrips() {
        let plan = ReloadPlan(
            version: "0.3.0", workers: 3,
            workerSettings: WorkerSettings(threads: 4, idleTimeout: .seconds(2), requestTimeout: .seconds(9)),
            environment: ["OAUTH_FORWARD_TARGET=sandbox-eu", "OAUTH_FORWARD_PATH_PREFIX=/a b\nc"])
        #expect(ReloadPlan(decoding: plan.encoded) == plan)
        #expect(plan.environmentPairs.map(\.1) == ["sandbox-eu", "/a b\nc"])
    }

    @Test(arguments: [
        "", "0.3.0\n", "0.3.0", "0.3.0\n2\0\0", "0 3\n2\0--threads\0" + "1\0\0",
        "0.3.0\n0\0--threads\0" + "1\0--idle-timeout-ms\0" + "1\0--request-timeout-ms\0" + "1\0--grace-ms\0" + "1\0\0",
        "0.3.0\n2\0--threads\0" + "1\0--idle-timeout-ms\0" + "1\0--request-timeout-ms\0" + "1\0--grace-ms\0" + "1\0"
            + "--supervisor\0" + "5\0\0",
        "0.3.0\n2\0--threads\0" + "1\0--idle-timeout-ms\0" + "1\0--request-timeout-ms\0" + "1\0--grace-ms\0" + "1\0\0"
            + "lower=case\0",
        "0.3.0\n2\0--threads\0" + "1\0--idle-timeout-ms\0" + "1\0--request-timeout-ms\0" + "1\0--grace-ms\0" + "1\0\0"
            + "=value\0",
    ])
    func refusesAnythingElse(_ text: String) {
        #expect(ReloadPlan(decoding: Array(text.utf8)) == nil)
    }
}
