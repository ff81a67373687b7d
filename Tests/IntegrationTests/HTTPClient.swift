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
        let fd = try connectLoopback(port: port, receiveTimeout: 0.2, sendTimeout: 0.2)
        defer { close(fd) }
        // A server may answer and close before it read everything (a 400 or 414): keep what it said.
        writeAll(request, to: fd)

        // Closed, or reset after the answer (a server that did not read the whole request): either ends it.
        let received = try readToClose(fd, timeout: timeout).answer
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
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count > 0 {
                received += buffer[..<count]
            } else if count == 0 {
                return (received, false)
            } else if errno != EAGAIN && errno != EINTR {
                return (received, true)
            }
            if Date() > deadline { throw HTTPClientError.timedOut(received.count) }
        }
    }

    /// A TCP connection to 127.0.0.1:port with the given socket timeouts, in seconds.
    static func connectLoopback(port: UInt16, receiveTimeout: Double, sendTimeout: Double) throws -> Int32 {
        _ = ChildProcess.ignoreSIGPIPE
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HTTPClientError.socket("socket", errno) }
        for (option, seconds) in [(SO_RCVTIMEO, receiveTimeout), (SO_SNDTIMEO, sendTimeout)] {
            var interval = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
            setsockopt(fd, SOL_SOCKET, option, &interval, socklen_t(MemoryLayout<timeval>.size))
        }
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let code = errno
            close(fd)
            throw HTTPClientError.socket("connect", code)
        }
        return fd
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// A port that was free a moment ago: the kernel's pick for a socket bound to port 0.
    static func freeLoopbackPort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HTTPClientError.socket("socket", errno) }
        defer { close(fd) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw HTTPClientError.socket("bind", errno) }
        return UInt16(bigEndian: address.sin_port)
    }

    /// True once something accepts connections on the port.
    static func isListening(port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
