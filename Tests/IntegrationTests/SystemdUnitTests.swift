import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ServerSuites {
    /// The shipped systemd units and environment file, checked by systemd's own tools and run as the units run it.
    @Suite struct SystemdUnitTests {
        static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path

        /// The units as shipped, with only the binary's path pointed at the build.
        static func renderedUnits() throws -> String {
            let directory = try makeScratchDirectory("units")
            for name in ["oauth-forward-cgi.service", "oauth-forward-cgi.socket"] {
                let text = try String(contentsOfFile: "\(repository)/systemd/\(name)", encoding: .utf8)
                if name.hasSuffix(".service") {
                    try #require(
                        text.contains(
                            "ExecStart=/usr/bin/oauth-forward-cgi serve --config /etc/default/oauth-forward-cgi\n"))
                    try #require(text.contains("ExecReload=/bin/kill -HUP $MAINPID\n"))
                }
                try text.replacingOccurrences(of: "/usr/bin/oauth-forward-cgi", with: Binary.path)
                    .write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8)
            }
            return directory
        }

        @Test func unitsPassSystemdAnalyzeVerify() throws {
            try requireTool("/usr/bin/systemd-analyze", package: "systemd")
            let directory = try Self.renderedUnits()
            let verified = try ChildProcess.run(
                "/usr/bin/systemd-analyze",
                ["verify", "\(directory)/oauth-forward-cgi.socket", "\(directory)/oauth-forward-cgi.service"],
                environment: [("PATH", bytes("/usr/bin:/bin"))], timeout: 60)
            #expect(verified.status == 0, "\(verified.stderrText)")
            #expect(verified.stderrText.isEmpty, "\(verified.stderrText)")
        }

        /// systemd's own exposure score for the service: hardened means "OK" (below 2.0 on its 0 to 10 scale).
        @Test func serviceIsHardened() throws {
            try requireTool("/usr/bin/systemd-analyze", package: "systemd")
            let directory = try Self.renderedUnits()
            let security = try ChildProcess.run(
                "/usr/bin/systemd-analyze", ["security", "--offline=yes", "\(directory)/oauth-forward-cgi.service"],
                environment: [("PATH", bytes("/usr/bin:/bin"))], timeout: 60)
            let line = try #require(
                security.stdoutText.split(separator: "\n").first { $0.contains("Overall exposure level") })
            // "→ Overall exposure level for oauth-forward-cgi.service: 1.4 OK :-)"
            let afterName = try #require(line.range(of: ".service: ")).upperBound
            let score = try #require(Double(line[afterName...].split(separator: " ").first ?? ""))
            #expect(score < 2.0, "\(line)")
            let unit = try String(
                contentsOfFile: "\(Self.repository)/systemd/oauth-forward-cgi.service", encoding: .utf8)
            for setting in [
                "DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
            ] {
                #expect(unit.contains(setting))
            }
        }

        /// The shipped /etc/default file, read by the program as the service runs it, starts a daemon that serves.
        @Test func environmentFileStartsAWorkingDaemon() throws {
            try requireTool("/usr/bin/systemd-socket-activate", package: "systemd")
            let file = "\(Self.repository)/systemd/oauth-forward-cgi.default"
            let directory = try makeScratchDirectory("envfile")
            let path = directory + "/fcgi.sock"
            let service = try ChildProcess(
                "/usr/bin/systemd-socket-activate",
                ["-l", path, Binary.path, "serve", "--config", file],
                environment: [("PATH", bytes("/usr/bin:/bin"))])
            defer { service.stop() }
            let answer = Daemon.firstAnswer(at: path, query: "code=1")
            #expect(
                answer.stdoutText.hasPrefix("Location: https://api.us.junction.com/"))
            #expect(answer.stdoutText.contains("\r\nStatus: 307 Temporary Redirect\r\n"))
            service.send(SIGTERM)
            #expect(service.wait(timeout: 20) == 0)
        }
    }
}
