#if canImport(Glibc)
import Glibc
#endif

/// A system call that failed, with its errno.
package struct SystemCallError: Error, Equatable {
    package let code: Int32

    package var message: String { errorText(code) }
}

/// `strerror`'s text for an errno value.
func errorText(_ code: Int32) -> String {
    String(cString: strerror(code))
}
