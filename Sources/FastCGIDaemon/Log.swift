import OAuthForward

#if canImport(Glibc)
import Glibc
#endif

/// Lines about the process rather than a request, written by the same logfmt builder as the request line.
package enum Log {
    package static func event(_ name: String, _ fields: [(String, String)] = []) {
        var line = LogLine()
        line.add("pid", Int(SystemCall.getpid()))
        line.add("event", name)
        for (key, value) in fields { line.add(key, value) }
        ProcessIO.writeAll(line.finished(), to: 2)
    }
}
