/// Replaces the Swift runtime's search for its crash reporter, swift-backtrace, in the static release build.
///
/// The static runtime finds its own path through dladdr, which static glibc cannot answer, and then through
/// /proc/self/exe. Where /proc is missing (a chroot, some shared hosts) it stops the process with "Unable to obtain
/// Swift runtime path" before main. scripts/build-release links with `--wrap=swift_copyAuxiliaryExecutablePath`,
/// which routes the runtime's call here: no crash reporter, which a host without Swift has no copy of anyway.
/// Other builds never call this.
@_cdecl("__wrap_swift_copyAuxiliaryExecutablePath")
func noAuxiliaryExecutable(_ name: UnsafePointer<CChar>?) -> UnsafeMutablePointer<CChar>? {
    nil
}
