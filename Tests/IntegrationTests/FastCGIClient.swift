import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// FastCGI records built by hand, for what `cgi-fcgi` cannot send: other roles, kept connections, broken streams.
enum FastCGIRecord {
    static let beginRequest: UInt8 = 1
    static let endRequest: UInt8 = 3
    static let params: UInt8 = 4
    static let stdin: UInt8 = 5
    static let stdout: UInt8 = 6
    static let stderr: UInt8 = 7
    static let getValues: UInt8 = 9
    static let getValuesResult: UInt8 = 10

    static let responder: UInt16 = 1
    static let authorizer: UInt16 = 2
    static let filter: UInt16 = 3

    static func record(type: UInt8, requestID: UInt16 = 1, content: [UInt8]) -> [UInt8] {
        precondition(content.count <= 0xFFFF)
        return [
            1, type, UInt8(requestID >> 8), UInt8(requestID & 0xFF), UInt8(content.count >> 8),
            UInt8(content.count & 0xFF), 0, 0,
        ] + content
    }

    static func begin(role: UInt16, keepConnection: Bool = false, requestID: UInt16 = 1) -> [UInt8] {
        record(
            type: beginRequest, requestID: requestID,
            content: [UInt8(role >> 8), UInt8(role & 0xFF), keepConnection ? 1 : 0, 0, 0, 0, 0, 0])
    }

    static func length(_ count: Int) -> [UInt8] {
        count < 128
            ? [UInt8(count)]
            : [
                UInt8((count >> 24) | 0x80), UInt8((count >> 16) & 0xFF), UInt8((count >> 8) & 0xFF),
                UInt8(count & 0xFF),
            ]
    }

    static func params(_ pairs: [(String, [UInt8])], requestID: UInt16 = 1) -> [UInt8] {
        var content: [UInt8] = []
        for (name, value) in pairs {
            content += length(name.utf8.count) + length(value.count) + bytes(name) + value
        }
        var records: [UInt8] = []
        var offset = 0
        while offset < content.count {
            let end = min(offset + 0xFFFF, content.count)
            records += record(type: params, requestID: requestID, content: Array(content[offset..<end]))
            offset = end
        }
        return records + record(type: params, requestID: requestID, content: [])
    }

    /// A whole request: begin, parameters, then the body as stdin and its end.
    static func request(
        role: UInt16 = responder, _ pairs: [(String, [UInt8])], body: [UInt8] = [], keepConnection: Bool = false,
        requestID: UInt16 = 1
    ) -> [UInt8] {
        var stream = begin(role: role, keepConnection: keepConnection, requestID: requestID)
        stream += params(pairs, requestID: requestID)
        if !body.isEmpty { stream += record(type: stdin, requestID: requestID, content: body) }
        return stream + record(type: stdin, requestID: requestID, content: [])
    }
}

/// The application's answer to one request, reassembled from its records.
struct FastCGIAnswer {
    var stdout: [UInt8] = []
    var stderr: [UInt8] = []
    var ended = false
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// A client socket to a FastCGI application, with a receive timeout so a silent peer fails the test, not hangs it.
/// One thread uses it at a time; a test may hand it to a writer thread, which then keeps it open while it writes.
final class FastCGIConnection: @unchecked Sendable {
    private let socket: Descriptor
    var fd: Int32 { socket.raw }

    init(unixPath: String, timeout: Double = 5) throws {
        do {
            socket = try Descriptor.connected(
                to: unixSocketAddress(unixPath), family: AF_UNIX, receiveTimeout: timeout, sendTimeout: 0)
        } catch {
            throw ChildProcessError.spawnFailed("connect \(unixPath)", error.code)
        }
    }

    /// A TCP connection to a numeric IPv4 or IPv6 address, from the IPv4 address `source` if given.
    init(host: String, port: UInt16, timeout: Double = 5, source: String? = nil) throws {
        do {
            if host.contains(":") {
                var address = sockaddr_in6()
                address.sin6_family = sa_family_t(AF_INET6)
                address.sin6_port = port.bigEndian
                inet_pton(AF_INET6, host, &address.sin6_addr)
                socket = try Descriptor.connected(
                    to: address, family: AF_INET6, receiveTimeout: timeout, sendTimeout: 0)
            } else {
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = port.bigEndian
                inet_pton(AF_INET, host, &address.sin_addr)
                socket = try Descriptor.connected(
                    to: address, family: AF_INET, receiveTimeout: timeout, sendTimeout: 0, source: source)
            }
        } catch {
            throw ChildProcessError.spawnFailed("connect \(host):\(port)", error.code)
        }
    }

    enum PeerEnd {
        case closed
        case reset
        /// Neither within the receive timeout.
        case open
    }

    /// Reads and drops whatever comes until the peer closes the connection, resets it, or falls silent.
    func peerEnd() -> PeerEnd {
        var byte: UInt8 = 0
        while true {
            let received = recv(fd, &byte, 1, 0)
            if received > 0 || (received < 0 && errno == EINTR) { continue }
            if received == 0 { return .closed }
            return errno == ECONNRESET ? .reset : .open
        }
    }

    /// True when the peer has closed the connection: the next read sees end of stream (or a reset).
    func peerClosed() -> Bool { peerEnd() != .open }

    func send(_ bytes: [UInt8]) { writeAll(bytes, to: fd) }

    private var buffer: [UInt8] = []

    private func fill(_ count: Int) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while buffer.count < count {
            let received = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if received < 0 && errno == EINTR { continue }
            if received <= 0 { return false }
            buffer += chunk[..<received]
        }
        return true
    }

    /// Reads one record: its type and content, or nil at end of stream or the timeout.
    func readRecord() -> (type: UInt8, content: [UInt8])? {
        guard fill(8) else { return nil }
        let length = Int(buffer[4]) << 8 | Int(buffer[5])
        let total = 8 + length + Int(buffer[6])
        guard fill(total) else { return nil }
        let record = (type: buffer[1], content: Array(buffer[8..<(8 + length)]))
        buffer.removeFirst(total)
        return record
    }

    /// Reads records until END_REQUEST, end of stream or the timeout.
    func readAnswer() -> FastCGIAnswer {
        var answer = FastCGIAnswer()
        while !answer.ended, let record = readRecord() {
            switch record.type {
            case FastCGIRecord.stdout: answer.stdout += record.content
            case FastCGIRecord.stderr: answer.stderr += record.content
            case FastCGIRecord.endRequest: answer.ended = true
            default: break
            }
        }
        return answer
    }
}

/// The two records that abort Debian's libfcgi (docs/LIBFCGI.md), for the tests that prove the daemon survives them.
enum LibFCGICrashers {
    /// PARAMS whose name and value lengths are both 0x40000000: Debian's libfcgi 2.4.2 asserts in Malloc and
    /// aborts (docs/LIBFCGI.md).
    static let oversizedParams: [UInt8] =
        FastCGIRecord.begin(role: FastCGIRecord.responder)
        + FastCGIRecord.record(
            type: FastCGIRecord.params, content: [0xC0, 0, 0, 0, 0xC0, 0, 0, 0] + bytes("xxxxxxxx"))

    /// GET_VALUES naming FCGI_MPXS_CONNS four times overflows libfcgi's 64-byte reply buffer: the stack
    /// protector aborts the process once an ordinary request follows.
    static let getValuesOverflow: [UInt8] =
        FastCGIRecord.record(
            type: FastCGIRecord.getValues, requestID: 0,
            content: Array(repeating: [0x0F, 0x00] + bytes("FCGI_MPXS_CONNS"), count: 6).flatMap { $0 })
        + FastCGIRecord.request(Daemon.parameters(query: "crash=1"))
}
