import FastCGIDaemon
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ServerSuites {
    /// nginx with the example's upstream keep-alive in front of the daemon, and the example's shared location.
    @Suite struct NginxDaemonTests {
        /// Two nginx workers, each keeping up to 8 idle connections to the daemon at its defaults (2 workers x 16
        /// threads). A lock around accept, or too few threads, shows here as 504s and second-long latencies.
        @Test func keptConnectionsNeverStallUnderLoad() throws {
            let setup = try NginxSetup(nginxWorkers: 2, daemon: ["serve"])
            let port = setup.port
            let clients = 8
            let perClient = 250
            let latencies = Locked([Double]())
            let failures = Locked([String]())
            DispatchQueue.concurrentPerform(iterations: clients) { client in
                for index in 0..<perClient {
                    let query = "code=c\(client)-\(index)&state=s%2B\(index)"
                    let start = Date()
                    do {
                        let response = try HTTPClient.exchange(
                            HTTPClient.request("GET", bytes("/oauth_callback/oura?" + query)), port: port)
                        let elapsed = Date().timeIntervalSince(start)
                        if response.status == 307,
                            response.value(of: "Location") == bytes(Callbacks.production + "oura?" + query)
                        {
                            latencies.withLock { $0.append(elapsed) }
                        } else {
                            failures.withLock { $0.append("\(query): \(response.status)") }
                        }
                    } catch {
                        failures.withLock { $0.append("\(query): \(error)") }
                    }
                }
            }
            let sorted = latencies.withLock { $0 }.sorted()
            #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0.prefix(5) })")
            #expect(sorted.count == clients * perClient)
            let p99 = sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
            // A stall is a connection waiting out the daemon's idle timeout for a thread; the bound is a tenth of it.
            let stall = WorkerSettings.defaultIdleTimeout.seconds
            #expect(p99 < stall / 10, "p99 \(p99 * 1000) ms, max \((sorted.last ?? 0) * 1000) ms")
            let errors = setup.log("oauth-forward-cgi.error.log") + setup.log("error.log")
            for symptom in [
                "upstream timed out", "upstream prematurely closed", "connect() to unix", "no live upstreams",
            ] {
                #expect(!errors.contains(symptom), "\(errors)")
            }
        }

        /// The example's /shared/oauth_callback/ location routes by the state token, end to end.
        @Test func sharedLocationRoutesByTheStateToken() throws {
            let setup = try NginxSetup()
            let cases: [(query: String, status: Int, location: String?)] = [
                (
                    "code=a%2Bb&state=\(LinkTokens.sandboxUS)", 307,
                    "https://api.sandbox.us.junction.com/v2/link/connect/oura"
                ),
                ("code=1&state=\(LinkTokens.foreign)", 307, "https://app.example.com/oauth/callback/oura"),
                ("code=1&state=\(LinkTokens.productionEULegacy)", 307, "https://app.example.com/oauth/callback/oura"),
                ("state=x&state=y", 400, nil),
            ]
            for (query, status, location) in cases {
                let response = try HTTPClient.exchange(
                    HTTPClient.request("GET", bytes("/shared/oauth_callback/oura?" + query)), port: setup.port)
                #expect(response.status == status, "\(query)\n\(response)")
                #expect(response.value(of: "Location") == location.map { bytes($0 + "?" + query) })
            }
            try waitForLog(
                containing: "/shared/", in: { readText(setup.directory + "/logs/oauth-forward-cgi.access.log") })
            #expect(!setup.program.log.contains("eyJ"))
        }
    }
}
