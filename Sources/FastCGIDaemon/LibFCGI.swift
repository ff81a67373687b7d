internal import CFastCGI

#if canImport(Glibc)
import Glibc
#endif

/// libfcgi, all of it: every `FCGX_` call the program makes is in this file, as SwiftPM's SQLite wrapper makes
/// every `sqlite3_` call, and scripts/check-system-calls holds the other files to it. docs/LIBFCGI.md says what
/// each of these calls does and where it was measured or read.
enum LibFCGI {
    /// Whether the process was started as CGI: fd 0 is no listening socket. It calls `FCGX_Init` first if nobody
    /// has yet.
    static var isCGI: Bool { FCGX_IsCGI() != 0 }

    /// Initialises the library: once, before any thread starts. False when it cannot. libfcgi lingers up to
    /// `closePollTimeout` on close, waiting for the peer's end of stream; `FCGX_Init` reads it from the environment.
    static func initialize(closePollTimeout: Duration) -> Bool {
        setenv("LIBFCGI_OS_CLOSE_POLL_TIMEOUT", String(closePollTimeout.milliseconds), 1)
        return FCGX_Init() == 0
    }
}

/// One thread's libfcgi request, which libfcgi reads one connection at a time into, and answers through.
///
/// libfcgi's rule: the strings of a request's parameters are freed by the next `FCGX_Accept_r` on it (it starts
/// with `FCGX_Finish_r`). Here the values are only lent: `withParameters(_:_:)` hands them to a closure as a
/// non-copyable `FoundParameters`, which cannot escape it, and `accept()` and `finish(closingConnection:)` take the
/// request mutably, so no borrow that reads parameters can outlive the request they belong to.
///
/// It cannot be copied: libfcgi keeps pointers into it, and two copies would free the same streams.
struct LibFCGIRequest: ~Copyable {
    private var request = FCGX_Request()

    /// A request on no listening socket: libfcgi never accepts a connection itself, it reads the one handed to it.
    init() {
        FCGX_InitRequest(&request, -1, 0)
    }

    /// Whether it still holds a connection, kept alive after its last answer.
    var holdsConnection: Bool { request.ipcFd >= 0 }

    /// Hands it the connection `fd`, which libfcgi closes when the connection ends, breaks or times out.
    mutating func take(connection fd: Int32) {
        request.ipcFd = fd
        // FCGX_Accept_r first finishes the previous request, closing its connection unless it was kept.
        request.keepConnection = 1
    }

    /// Reads the next request from the connection: false when it ended, broke or timed out, and libfcgi has closed
    /// it. Frees the previous request's parameters.
    mutating func accept() -> Bool {
        FCGX_Accept_r(&request) >= 0
    }

    /// Ends the request: its streams are flushed, and its connection closed if the web server did not ask to keep it,
    /// or if `closingConnection`.
    mutating func finish(closingConnection: Bool) {
        if closingConnection { request.keepConnection = 0 }
        FCGX_Finish_r(&request)
    }

    /// Frees the request and closes the connection it holds.
    mutating func free() {
        FCGX_Free(&request, 1)
    }

    /// Finds the parameters `names` in one pass and calls `body` with their values, in libfcgi's own strings: they
    /// must not outlive `body`, since the next accept frees them.
    func withParameters<Result>(_ names: ParameterNames, _ body: (borrowing FoundParameters) -> Result) -> Result {
        FastCGIParameters.find(names, in: request.envp, body)
    }

    /// Reads the request body to its end, at most `limit` bytes, so a kept-alive connection is left at a record
    /// boundary.
    func discardBody(upTo limit: Int) {
        var remaining = limit
        // 1 KiB, on the stack: a larger temporary allocation is a malloc, which nearly every request (a GET, with no
        // body at all) paid for. A form_post body fits in a few rounds of it.
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 1024) { buffer in
            while remaining > 0 {
                let count = FCGX_GetStr(buffer.baseAddress, Int32(min(remaining, buffer.count)), request.in)
                if count <= 0 { return }
                remaining -= Int(count)
            }
        }
    }

    /// Sends `response` on FCGI_STDOUT and closes FCGI_STDERR and FCGI_STDOUT, as `FCGX_Finish_r` would: that
    /// sends the answer, and reports a peer that vanished. False when any of it failed.
    func answer(_ response: [UInt8]) -> Bool {
        let written = response.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { FCGX_PutStr($0.baseAddress, Int32($0.count), request.out) }
        }
        let errorClosed = FCGX_FClose(request.err)
        let outputClosed = FCGX_FClose(request.out)
        return written == response.count && errorClosed == 0 && outputClosed == 0
    }
}

/// A request's parameters as libfcgi holds them: `NAME=value` C strings, in the array `FCGX_Request.envp`.
enum FastCGIParameters {
    /// Finds every name of `names` in one pass over the parameters, comparing bytes in place; the first of two
    /// parameters with the same name wins, as with `FCGX_GetParam`.
    ///
    /// nginx sends about 30 parameters and the program reads 9. Looked up one by one, each lookup walked all of
    /// them, and `FCGX_GetParam(name, envp)` with a Swift `String` also made each name a new C string (an
    /// allocation): about 6,000 of the daemon's 51,000 instructions per request (callgrind of a worker under
    /// nginx, keep-alive), and 3,800 still with one pass per name.
    static func find<Result>(
        _ names: ParameterNames, in parameters: FCGX_ParamArray?, _ body: (borrowing FoundParameters) -> Result
    ) -> Result {
        withUnsafeTemporaryAllocation(of: UnsafeBufferPointer<UInt8>.self, capacity: names.count) { values in
            values.initialize(repeating: UnsafeBufferPointer(start: nil, count: 0))
            if var entry = parameters {
                while let parameter = entry.pointee {
                    let bytes = UnsafeRawPointer(parameter).assumingMemoryBound(to: UInt8.self)
                    var candidates = names.startingWith(bytes[0])
                    while candidates != 0 {
                        let index = candidates.trailingZeroBitCount
                        candidates &= candidates - 1
                        guard values[index].baseAddress == nil, let length = names.prefixLength(index, of: bytes)
                        else { continue }
                        let value = bytes + length + 1
                        values[index] = UnsafeBufferPointer(start: value, count: strlen(parameter + length + 1))
                        break
                    }
                    entry += 1
                }
            }
            return body(FoundParameters(values: UnsafeBufferPointer(values)))
        }
    }
}

/// Names to find among a request's parameters, prepared once: their bytes, and for each first byte which of them
/// start with it.
struct ParameterNames: Sendable {
    private let names: [[UInt8]]
    /// Bit `i` of entry `b`: name `i` starts with the byte `b`.
    private let byFirstByte: [UInt64]

    init(_ names: [String]) {
        precondition(names.count <= 64 && names.allSatisfy { !$0.isEmpty && !$0.utf8.contains(0) })
        self.names = names.map { Array($0.utf8) }
        var byFirstByte = [UInt64](repeating: 0, count: 256)
        for (index, name) in self.names.enumerated() { byFirstByte[Int(name[0])] |= 1 << UInt64(index) }
        self.byFirstByte = byFirstByte
    }

    var count: Int { names.count }

    func startingWith(_ byte: UInt8) -> UInt64 { byFirstByte[Int(byte)] }

    /// The length of name `index` when the C string `bytes` starts with it and then `=`.
    func prefixLength(_ index: Int, of bytes: UnsafePointer<UInt8>) -> Int? {
        // A parameter shorter than the name ends in its NUL, which differs from every byte of the name.
        names[index].withUnsafeBufferPointer { name in
            for offset in name.indices where bytes[offset] != name[offset] { return nil }
            return bytes[name.count] == UInt8(ascii: "=") ? name.count : nil
        }
    }
}

/// The values `FastCGIParameters.find` found, by the index of their name; valid only while its body runs.
struct FoundParameters: ~Copyable {
    fileprivate let values: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>

    /// The value of name `index` in place, or nil when the request has no such parameter.
    subscript(index: Int) -> UnsafeBufferPointer<UInt8>? {
        let value = values[index]
        return value.baseAddress == nil ? nil : value
    }

    /// The value of name `index`, copied out.
    func copy(_ index: Int) -> [UInt8]? {
        self[index].map { Array($0) }
    }
}
