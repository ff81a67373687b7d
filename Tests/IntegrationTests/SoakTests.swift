import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 client that keeps its connection open, as a browser would, for many requests in a row, and opens a
/// new one when the server says `Connection: close` (nginx does after keepalive_requests, 1,000 by default).
final class KeepAliveHTTPClient {
    private let port: UInt16
    private var socket = Descriptor(adopting: -1)
    private var buffer: [UInt8] = []
    private var serverWillClose = false

    init(port: UInt16) throws {
        self.port = port
        try open()
    }

    /// A new connection in place of the old one, which is closed first; if none can be made, none is held.
    private func open() throws {
        socket.close()
        buffer = []
        serverWillClose = false
        socket = try HTTPClient.connectLoopback(port: port, receiveTimeout: 10, sendTimeout: 10)
    }

    /// Sends a GET and returns the status and the Location of the answer, whose body must be empty.
    func get(_ target: String) -> (status: Int, location: String?)? {
        if serverWillClose {
            guard (try? open()) != nil else { return nil }
        }
        writeAll(bytes("GET \(target) HTTP/1.1\r\nHost: localhost\r\n\r\n"), to: socket.raw)
        let separator = bytes("\r\n\r\n")
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            if let end = buffer.firstRange(of: separator) {
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
                buffer.removeSubrange(..<end.upperBound)
                let lines = head.components(separatedBy: "\r\n")
                let status = Int(lines[0].split(separator: " ")[1]) ?? 0
                let location = lines.first { $0.lowercased().hasPrefix("location: ") }.map { String($0.dropFirst(10)) }
                let length =
                    lines.first { $0.lowercased().hasPrefix("content-length: ") }
                    .flatMap { Int($0.dropFirst(16)) } ?? 0
                guard length == 0 else { return nil }
                serverWillClose = lines.contains { $0.lowercased() == "connection: close" }
                return (status, location)
            }
            let count = read(socket.raw, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            buffer += chunk[..<count]
        }
    }
}

extension ServerSuites {
    /// Many requests through nginx to the daemon: every answer a 307, worker memory flat, no descriptor kept.
    /// `SOAK_REQUESTS` sets the count (default 20,000; scripts/test-long runs 1,000,000).
    @Suite struct SoakTests {
        static func residentKilobytes(_ pid: pid_t) -> Int {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }

        @Test func manyRequestsLeaveNoTrace() throws {
            let total = ProcessInfo.processInfo.environment["SOAK_REQUESTS"].flatMap(Int.init) ?? 20_000
            let setup = try NginxSetup(nginxWorkers: 2, daemon: ["serve", "--workers", "2", "--threads", "8"])
            var workers: [pid_t] = []
            _ = waitUntil(timeout: .seconds(10), every: .milliseconds(20)) {
                workers = Daemon.children(of: setup.program.server.process.pid)
                return workers.count == 2
            }
            try #require(workers.count == 2, "daemon workers: \(workers)")
            let socketsAtStart = workers.map(Daemon.socketCount)

            let port = setup.port
            let clients = 4
            func run(_ count: Int, tag: String) -> [String] {
                let failures = Locked([String]())
                DispatchQueue.concurrentPerform(iterations: clients) { client in
                    guard let connection = try? KeepAliveHTTPClient(port: port) else {
                        failures.withLock { $0.append("client \(client) could not connect") }
                        return
                    }
                    for index in stride(from: client, to: count, by: clients) {
                        let query = "code=\(tag)\(index)&state=s%2B\(index)"
                        let answer = connection.get("/oauth_callback/oura?" + query)
                        if answer?.status != 307 || answer?.location != Callbacks.production + "oura?" + query {
                            failures.withLock { $0.append("\(query): \(String(describing: answer))") }
                            if failures.withLock({ $0.count }) > 10 { return }
                        }
                    }
                }
                return failures.withLock { $0 }
            }

            let warmUp = min(2_000, total)
            #expect(run(warmUp, tag: "w").isEmpty)
            let residentAfterWarmUp = workers.map(Self.residentKilobytes)
            let failures = run(total, tag: "s")
            #expect(failures.isEmpty, "\(failures.prefix(5))")
            let residentAfter = workers.map(Self.residentKilobytes)
            // A sanitizer's allocator keeps what is freed and its shadow memory grows with use; under one, RSS measures
            // the sanitizer, not the program, and only the other guarantees are checked.
            if !underSanitizer {
                for (before, after) in zip(residentAfterWarmUp, residentAfter) {
                    #expect(
                        after - before < 1024,
                        "worker RSS grew from \(before) KiB to \(after) KiB over \(total) requests")
                }
            }

            // With nginx gone its kept connections close, and each worker is back to the sockets it started with.
            setup.nginx.stop()
            _ = waitUntil(timeout: .seconds(20), every: .milliseconds(50)) {
                workers.map(Daemon.socketCount) == socketsAtStart
            }
            #expect(workers.map(Daemon.socketCount) == socketsAtStart, "\(workers.map(Daemon.descriptors))")
            print(
                "soak: \(total) requests, worker RSS \(residentAfterWarmUp) KiB after warm-up, \(residentAfter) KiB after"
            )
        }
    }
}
