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
/// with `FCGX_Finish_r`). Here no pointer to them leaves this type: `parameter(_:)` copies a value out as bytes,
/// and `accept()` and `finish(closingConnection:)` take the request mutably, so no borrow that reads parameters
/// can outlive the request they belong to.
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

    /// The parameter `name`, copied out of libfcgi's strings, which the next accept frees.
    func parameter(_ name: String) -> [UInt8]? {
        FastCGIParameters.value(of: name, in: request.envp)
    }

    /// Reads the request body to its end, at most `limit` bytes, so a kept-alive connection is left at a record
    /// boundary.
    func discardBody(upTo limit: Int) {
        var remaining = limit
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 16384) { buffer in
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
    /// The value of `name`, copied out, or nil when the request has no such parameter.
    ///
    /// Compares bytes in place: `FCGX_GetParam(name, envp)` made each lookup convert the Swift `String` into a new C
    /// string, an allocation, before libfcgi's `strncmp` of every parameter: with the nine lookups of a request,
    /// about 6,000 of the daemon's 51,000 instructions per request (callgrind of a worker under nginx, keep-alive).
    static func value(of name: String, in parameters: FCGX_ParamArray?) -> [UInt8]? {
        guard var entry = parameters else { return nil }
        var name = name
        return name.withUTF8 { key -> [UInt8]? in
            guard let first = key.first else { return nil }
            while let parameter = entry.pointee {
                let bytes = UnsafeRawPointer(parameter).assumingMemoryBound(to: UInt8.self)
                // A parameter shorter than the name ends in its NUL, which differs from every byte of the name.
                if bytes[0] == first, matches(key, bytes) {
                    let value = bytes + key.count + 1
                    return Array(UnsafeBufferPointer(start: value, count: strlen(parameter + key.count + 1)))
                }
                entry += 1
            }
            return nil
        }
    }

    /// Whether `bytes`, a C string, starts with `key` and then `=`.
    private static func matches(_ key: UnsafeBufferPointer<UInt8>, _ bytes: UnsafePointer<UInt8>) -> Bool {
        for index in key.indices where bytes[index] != key[index] { return false }
        return bytes[key.count] == UInt8(ascii: "=")
    }
}
