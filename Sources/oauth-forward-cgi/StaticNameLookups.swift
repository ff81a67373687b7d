import FastCGIDaemon

#if canImport(Glibc)
import Glibc
#endif

// The static release build has no NSS lookups (docs/PACKAGING.md). Two dependencies link some all the same, in
// code the program never runs: libfcgi's OS_CreateLocalIpcFd and OS_FcgiConnect call gethostbyname, and
// FoundationEssentials (which ArgumentParser imports) calls the four below for user and group names. Their object
// files are not split into sections, so the linker cannot drop the calls. scripts/build-release links with
// `--wrap=NAME` for each, which routes the calls here, and glibc's lookup and its NSS module loading stay out of
// the binary. Other builds never call these.
//
// They take no parameters: C callers pass their arguments in registers, which a function that only stops the
// process may leave unread.

@_cdecl("__wrap_gethostbyname")
func staticGethostbyname() -> Never { refuseNameLookup("gethostbyname") }

@_cdecl("__wrap_getgrnam_r")
func staticGetgrnamR() -> Never { refuseNameLookup("getgrnam_r") }

@_cdecl("__wrap_getgrgid_r")
func staticGetgrgidR() -> Never { refuseNameLookup("getgrgid_r") }

@_cdecl("__wrap_getpwnam_r")
func staticGetpwnamR() -> Never { refuseNameLookup("getpwnam_r") }

@_cdecl("__wrap_getpwuid_r")
func staticGetpwuidR() -> Never { refuseNameLookup("getpwuid_r") }

private func refuseNameLookup(_ function: String) -> Never {
    ProcessIO.writeAll(
        "oauth-forward-cgi: \(function) was called, but this static binary does no NSS lookups; please report it\n",
        to: 2)
    abort()
}
