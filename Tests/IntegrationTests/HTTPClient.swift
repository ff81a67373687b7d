import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// An HTTP answer as it came off the socket, split but never decoded or repaired.
struct HTTPResponse: CustomStringConvertible {
    let raw: [UInt8]
    let statusLine: String
    /// Header lines in order, the name as sent and the value as raw bytes, leading spaces trimmed.
    let headers: [(name: String, value: [UInt8])]
    /// What follows the blank line, still chunked when the server chunked it.
    let body: [UInt8]

    var status: Int { statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0 }

    func values(of name: String) -> [[UInt8]] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    func value(of name: String) -> [UInt8]? { values(of: name).first }

    var headerNames: [String] { headers.map { $0.name.lowercased() } }

    /// True when the body carries nothing: absent, or a chunked stream with only its last chunk.
    var bodyIsEmpty: Bool {
        let chunked = value(of: "Transfer-Encoding").map { String(decoding: $0, as: UTF8.self).lowercased() }
        return body.isEmpty || (chunked == "chunked" && body == bytes("0\r\n\r\n"))
    }

    var description: String { String(decoding: raw.prefix(600), as: UTF8.self) }

    /// Splits at the first blank line. Nothing here folds, unescapes or merges header lines.
    init(raw: [UInt8]) {
        self.raw = raw
        let separator = bytes("\r\n\r\n")
        var headerEnd = raw.count
        var bodyStart = raw.count
        if raw.count >= 4 {
            for index in 0...(raw.count - 4) where Array(raw[index..<index + 4]) == separator {
                headerEnd = index
                bodyStart = index + 4
                break
            }
        }
        let lines = raw[..<headerEnd].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map {
            $0.last == UInt8(ascii: "\r") ? Array($0.dropLast()) : Array($0)
        }
        statusLine = String(decoding: lines.first ?? [], as: UTF8.self)
        headers = lines.dropFirst().map { line in
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                return (String(decoding: line, as: UTF8.self), [])
            }
            let value = line[(colon + 1)...].drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            return (String(decoding: line[..<colon], as: UTF8.self), Array(value))
        }
        body = Array(raw[bodyStart...])
    }
}

enum HTTPClientError: Error, CustomStringConvertible {
    case socket(String, Int32)
    case timedOut(Int)

    var description: String {
        switch self {
        case .socket(let call, let code): "\(call) failed: errno \(code)"
        case .timedOut(let received): "no end of answer in time (\(received) bytes received)"
        }
    }
}

/// A client that sends exactly the bytes it is given to 127.0.0.1 and returns exactly what comes back. curl and
/// URLSession would normalise the path or the query first, which is what these tests must not do.
enum HTTPClient {
    /// One request on its own connection; the answer is read to the server's close, within `timeout` seconds.
    static func exchange(_ request: [UInt8], port: UInt16, timeout: Double = 10) throws -> HTTPResponse {
        let socket = try connectLoopback(port: port, receiveTimeout: 0.2, sendTimeout: 0.2)
        // A server may answer and close before it read everything (a 400 or 414): keep what it said.
        writeAll(request, to: socket.raw)

        // Closed, or reset after the answer (a server that did not read the whole request): either ends it.
        let received = try readToClose(socket.raw, timeout: timeout).answer
        return HTTPResponse(raw: received)
    }

    /// The bytes of a request: the target exactly as given, `Connection: close` so the answer ends with EOF.
    static func request(
        _ method: String, _ target: [UInt8], body: [UInt8]? = nil, headers: [String] = []
    ) -> [UInt8] {
        var head = bytes("\(method) ") + target + bytes(" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n")
        head += bytes("User-Agent: oauth-forward-cgi-tests\r\n")
        if let body {
            head += bytes("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.count)\r\n")
        }
        for header in headers { head += bytes(header + "\r\n") }
        return head + bytes("\r\n") + (body ?? [])
    }

    /// Reads until the peer closes or resets the connection, within `timeout` seconds. `fd` has a short receive
    /// timeout, so the deadline is checked between reads.
    static func readToClose(_ fd: Int32, timeout: Double) throws -> (answer: [UInt8], reset: Bool) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = ContinuousClock.now + .seconds(timeout)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count > 0 {
                received += buffer[..<count]
            } else if count == 0 {
                return (received, false)
            } else if errno != EAGAIN && errno != EINTR {
                return (received, true)
            }
            if ContinuousClock.now > deadline { throw HTTPClientError.timedOut(received.count) }
        }
    }

    /// A TCP connection to 127.0.0.1:port with the given socket timeouts, in seconds.
    static func connectLoopback(
        port: UInt16, receiveTimeout: Double, sendTimeout: Double
    ) throws(HTTPClientError) -> Descriptor {
        _ = ChildProcess.ignoreSIGPIPE
        do {
            return try Descriptor.connected(
                to: loopback(port: port), family: AF_INET, receiveTimeout: receiveTimeout, sendTimeout: sendTimeout)
        } catch {
            throw HTTPClientError.socket(error.call, error.code)
        }
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// A port for a server a test starts: free when probed, never handed out twice in one run, and below the
    /// kernel's ephemeral range. The kernel's own pick (bind to port 0) comes from that range, where a client
    /// connection of any concurrent test may take the port before the server binds it, or another test gets the
    /// same pick; these ports can only collide with another process binding them on purpose.
    static func freeLoopbackPort() throws -> UInt16 {
        try PortPool.shared.next()
    }

    /// True once something accepts connections on the port.
    static func isListening(port: UInt16) -> Bool {
        (try? Descriptor.connected(to: loopback(port: port), family: AF_INET, receiveTimeout: 0, sendTimeout: 0))
            != nil
    }
}

/// Hands out loopback ports from 10000 up to the ephemeral range, starting at an offset taken from the pid so that
/// two test runs side by side start apart.
final class PortPool: Sendable {
    static let shared = PortPool()

    private let low: Int
    private let high: Int
    private let cursor: Locked<Int>

    private init() {
        let range = readText("/proc/sys/net/ipv4/ip_local_port_range").split(whereSeparator: \.isWhitespace)
        low = 10_000
        high = max(low + 1000, range.first.flatMap { Int($0) } ?? 32768)
        cursor = Locked(low + Int(getpid()) * 97 % (high - low))
    }

    func next() throws -> UInt16 {
        for _ in low..<high {
            let port = cursor.withLock { cursor in
                defer { cursor = cursor + 1 < high ? cursor + 1 : low }
                return UInt16(cursor)
            }
            if Self.isFree(port) { return port }
        }
        throw HTTPClientError.socket("bind (no free port from \(low) to \(high))", EADDRINUSE)
    }

    private static func isFree(_ port: UInt16) -> Bool {
        guard let socket = try? Descriptor.socket(AF_INET) else { return false }
        var address = HTTPClient.loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket.raw, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
