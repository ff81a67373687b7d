#if canImport(Glibc)
import Glibc
#endif

/// `probe`: one real request to a running daemon, sent as a web server sends it, and a verdict on the answer.
package enum HealthProbe {
    /// The provider a probe asks for unless told another: a valid name, and plain to see in the daemon's log.
    package static let defaultProvider = "probe"

    /// How long the whole exchange may take unless told otherwise: a daemon answers in a millisecond or so, and a
    /// health check that waits longer than a few seconds stalls what runs it.
    package static let defaultTimeout = Duration.seconds(3)
    package static let timeoutRange = Duration.milliseconds(100)...Duration.seconds(3600)

    /// The probe's own query. A GET without a query is a reachability check, answered 200 without forwarding, so
    /// the probe sends a callback to test the forwarding path: an `error` callback, never a `code`, with a state
    /// that is no token, so that a target that reads it sees an error and nothing to exchange.
    package static let query = Array("error=probe&state=probe".utf8)

    /// What nginx with Debian's fastcgi_params sends for `GET /oauth_callback/<provider>?error=probe&state=probe`.
    /// `extra` replaces a parameter of the same name, or comes last, as a `fastcgi_param`
    /// line of the web server's would (libfcgi reads the first of two with one name).
    package static func request(provider: [UInt8], extra: [(name: [UInt8], value: [UInt8])] = []) -> FastCGIRequest {
        let uri = Array("/oauth_callback/".utf8) + provider + Array("?".utf8) + query
        let standard: [(String, [UInt8])] = [
            ("GATEWAY_INTERFACE", Array("CGI/1.1".utf8)), ("SERVER_PROTOCOL", Array("HTTP/1.1".utf8)),
            ("REQUEST_METHOD", Array("GET".utf8)), ("REQUEST_URI", uri),
            ("DOCUMENT_URI", Array("/oauth_callback/".utf8) + provider),
            ("SCRIPT_NAME", Array("/oauth_callback".utf8)), ("PATH_INFO", Array("/".utf8) + provider),
            ("QUERY_STRING", query), ("CONTENT_LENGTH", []), ("HTTP_USER_AGENT", Array("oauth-forward-cgi probe".utf8)),
        ]
        let replaced = Set(extra.map(\.name))
        let kept = standard.map { (name: Array($0.utf8), value: $1) }.filter { !replaced.contains($0.name) }
        return FastCGIRequest(parameters: kept + extra)
    }

    /// Sends `request` to `address` and reads the whole answer, from connecting to END_REQUEST within `timeout`.
    package static func exchange(
        _ request: FastCGIRequest, with address: ListenAddress, timeout: Duration
    ) -> Result<FastCGIResponse, HealthProbeError> {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        let fd: Int32
        do {
            fd = try SystemCall.socket(address.family, flags: Int32(SOCK_NONBLOCK.rawValue))
        } catch {
            return .failure(.cannotConnect(address, code: error.code))
        }
        defer { BestEffort.close(fd) }

        do {
            try address.withSystemAddress { (address, length) throws(SystemCallError) in
                try SystemCall.connect(fd, address, length)
            }
        } catch {
            // A unix socket whose backlog is full says EAGAIN at once; TCP says EINPROGRESS and goes on.
            guard error.code == EINPROGRESS else { return .failure(.cannotConnect(address, code: error.code)) }
            guard wait(fd, for: POLLOUT, until: deadline) else { return .failure(.timedOut(address, after: timeout)) }
            // How the connection went; a socket whose error cannot be read is taken as connected, and the send
            // that follows says otherwise.
            let code = (try? SystemCall.socketOption(fd, SOL_SOCKET, SO_ERROR)) ?? 0
            if code != 0 { return .failure(.cannotConnect(address, code: code)) }
        }

        let bytes = request.bytes
        var sent = 0
        while sent < bytes.count {
            do throws(SystemCallError) {
                sent += try bytes[sent...].withUnsafeBufferPointer { (buffer) throws(SystemCallError) in
                    try SystemCall.send(fd, buffer.baseAddress, buffer.count, flags: Int32(MSG_NOSIGNAL))
                }
            } catch let error where error.code == EAGAIN {
                guard wait(fd, for: POLLOUT, until: deadline) else {
                    return .failure(.timedOut(address, after: timeout))
                }
            } catch let error where error.code == EPIPE || error.code == ECONNRESET {
                // The peer hung up before taking the whole request: what it said first, if anything, says why.
                break
            } catch {
                return .failure(.lost(address, code: error.code))
            }
        }

        var reader = FastCGIResponseReader()
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            guard wait(fd, for: POLLIN, until: deadline) else { return .failure(.timedOut(address, after: timeout)) }
            let count: Int
            do throws(SystemCallError) {
                count = try chunk.withUnsafeMutableBufferPointer { (buffer) throws(SystemCallError) in
                    try SystemCall.recv(fd, buffer.baseAddress, buffer.count)
                }
            } catch let error where error.code == ECONNRESET {
                // A peer that closes with the request unread resets the connection, unix sockets too.
                return .failure(.closed(address))
            } catch let error where error.code == EAGAIN {
                continue
            } catch {
                return .failure(.lost(address, code: error.code))
            }
            if count == 0 { return .failure(.closed(address)) }
            do throws(FastCGIResponseError) {
                if let response = try reader.read(chunk[..<count]) { return .success(response) }
            } catch {
                return .failure(.unreadableAnswer(address, error))
            }
        }
    }

    /// Waits until `fd` is ready for `events`, or has an error to report; false once `deadline` has passed.
    private static func wait(_ fd: Int32, for events: Int32, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { return false }
            var entry = pollfd(fd: fd, events: Int16(events), revents: 0)
            // A poll that fails lets the call that follows say why.
            guard let ready = try? SystemCall.poll(&entry, 1, timeout: Int32(clamping: remaining.milliseconds + 1))
            else { return true }
            if ready > 0 { return true }
        }
    }

    /// The line a probe prints, and whether it is a pass: only a 307 whose `Location` ends with the probe's query
    /// is, as only that forwards a callback to the configured target byte for byte.
    package static func verdict(on response: FastCGIResponse, after elapsed: Duration) -> Result<String, ProbeFailure> {
        guard response.protocolStatus == 0 else { return .failure(.refused(protocolStatus: response.protocolStatus)) }
        let status: CGIStatusLine
        do throws(FastCGIResponseError) {
            status = try CGIStatusLine(parsing: response.stdout)
        } catch {
            return .failure(.unreadable(error))
        }
        let line = "\(status.description) in \(elapsed.millisecondsWithTenths) ms"
        guard status.code == 307 else { return .failure(.status(code: status.code, line: line)) }
        let location = Self.location(in: response.stdout)
        guard let location, location.suffix(query.count).elementsEqual(query),
            location.dropLast(query.count).last == UInt8(ascii: "?")
        else { return .failure(.queryNotForwarded(line: line)) }
        return .success(line)
    }

    /// The value of the answer's first `Location` field, up to the header section's end.
    static func location(in answer: [UInt8]) -> ArraySlice<UInt8>? {
        var start = answer.startIndex
        while let newline = answer[start...].firstIndex(of: UInt8(ascii: "\n")) {
            var line = answer[start..<newline]
            start = newline + 1
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.isEmpty { return nil }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")),
                line[..<colon].map({ $0 | 0x20 }).elementsEqual("location".utf8)
            else { continue }
            return line[(colon + 1)...].drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        }
        return nil
    }
}

extension Duration {
    /// `0.4`, `12.0`: milliseconds to a tenth, rounded.
    var millisecondsWithTenths: String {
        let (seconds, attoseconds) = components
        let tenths = (seconds * 1_000_000 + attoseconds / 1_000_000_000_000 + 50) / 100
        return "\(tenths / 10).\(tenths % 10)"
    }
}
