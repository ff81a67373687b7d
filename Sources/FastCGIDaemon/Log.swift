#if canImport(Glibc)
import Glibc
#endif

/// Lines about the process rather than a request, in the same logfmt shape.
package enum Log {
    package static func event(_ name: String, _ fields: String = "") {
        ProcessIO.writeAll(
            "app=oauth-forward-cgi pid=\(getpid()) event=\(name)\(fields.isEmpty ? "" : " " + fields)\n", to: 2)
    }
}
