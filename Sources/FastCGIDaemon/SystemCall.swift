internal import CEpoll
internal import CLinux

#if canImport(Glibc)
import Glibc
#endif

/// Every system call of FastCGIDaemon and the executable, made raw here and nowhere else; libfcgi's calls are
/// `LibFCGI`'s, and the signal handlers (SignalHandlers.swift) are the one exception. scripts/check-system-calls
/// holds the other files to it. Each function:
/// - reads `errno` right after its call, into the `SystemCallError` it throws;
/// - applies the EINTR rule (`retrying`, `waiting`, `once`), which lives here alone;
/// - throws or returns every failure. The few that the program rides out on purpose go through `BestEffort`, whose
///   functions say why.
///
/// `@inline(__always)`, non-generic and with typed throws: a CGI request makes some of these calls, and
/// scripts/test-instructions holds its instruction count, which a generic, `Result` or an existential error would
/// raise. The executable reaches the few it needs as `package`.
package enum SystemCall {
    // MARK: The EINTR rule
    //
    // A signal that interrupts a call before it has done anything makes it fail with EINTR. Then:
    // - a call that does something (open, read, write, accept, waitpid, ...) is made again: the signal says
    //   nothing about it, and its handler has already done its work;
    // - a wait (poll, epoll_wait) returns 0 ready, as a timeout does: the signal may be the event its caller waits
    //   for (SIGHUP, SIGCHLD, a stop), and every caller looks at its own state before it waits again;
    // - connect is made once: the connection goes on being made, and a second call would say EALREADY;
    // - close is never made again (`BestEffort.close`).

    @inline(__always)
    private static func retrying(_ call: () -> Int) throws(SystemCallError) -> Int {
        while true {
            let result = call()
            if result >= 0 { return result }
            let code = errno
            if code != EINTR { throw SystemCallError(code: code) }
        }
    }

    @inline(__always)
    private static func retrying(_ call: () -> Int32) throws(SystemCallError) -> Int32 {
        Int32(truncatingIfNeeded: try retrying { Int(call()) })
    }

    @inline(__always)
    private static func waiting(_ call: () -> Int32) throws(SystemCallError) -> Int32 {
        let result = call()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { return 0 }
        throw SystemCallError(code: code)
    }

    @inline(__always)
    private static func once(_ call: () -> Int32) throws(SystemCallError) -> Int32 {
        let result = call()
        if result < 0 { throw SystemCallError(code: errno) }
        return result
    }

    /// `bytes`, a path that may not be valid UTF-8, as a NUL-terminated C string for `call`.
    @inline(__always)
    private static func terminated(_ bytes: [UInt8], _ call: (UnsafePointer<CChar>) -> Int32) -> Int32 {
        var terminated = bytes
        terminated.append(0)
        return terminated.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { call($0.baseAddress!) }
        }
    }

    // MARK: Files and descriptors

    @inline(__always)
    static func open(_ path: UnsafePointer<CChar>, _ flags: Int32) throws(SystemCallError) -> Int32 {
        try retrying { Glibc.open(path, flags) }
    }

    /// `open` of a path given as bytes, which may not be valid UTF-8; nil when there is no such file (ENOENT,
    /// ENOTDIR). For the CGI path, where that is the usual answer: a `throw` costs a request about 500 instructions,
    /// in the runtime's hook for it (`swift_willThrowTyped` and `SystemCallError`'s `Error` conformance), and
    /// scripts/test-instructions counts them.
    @inline(__always)
    static func openIfPresent(_ path: [UInt8], _ flags: Int32) throws(SystemCallError) -> Int32? {
        var absent = false
        let fd = try retrying { () -> Int32 in
            let fd = terminated(path) { Glibc.open($0, flags) }
            guard fd < 0, errno == ENOENT || errno == ENOTDIR else { return fd }
            // Not a failure: done, with no descriptor.
            absent = true
            return 0
        }
        return absent ? nil : fd
    }

    @inline(__always)
    static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) throws(SystemCallError) -> Int {
        try retrying { Glibc.read(fd, buffer, count) }
    }

    @inline(__always)
    static func pread(
        _ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, at offset: Int
    ) throws(SystemCallError) -> Int {
        try retrying { Glibc.pread(fd, buffer, count, off_t(offset)) }
    }

    @inline(__always)
    static func write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) throws(SystemCallError) -> Int {
        try retrying { Glibc.write(fd, buffer, count) }
    }

    @inline(__always)
    static func fstat(_ fd: Int32) throws(SystemCallError) -> Glibc.stat {
        var status = Glibc.stat()
        _ = try retrying { Glibc.fstat(fd, &status) }
        return status
    }

    /// `stat` of a path given as bytes: what a symbolic link there points to.
    @inline(__always)
    static func stat(_ path: [UInt8]) throws(SystemCallError) -> Glibc.stat {
        var status = Glibc.stat()
        _ = try retrying { terminated(path) { statFunction($0, &status) } }
        return status
    }

    /// The file `path` names itself, not what a symbolic link there points to.
    @inline(__always)
    static func lstat(_ path: UnsafePointer<CChar>) throws(SystemCallError) -> Glibc.stat {
        var status = Glibc.stat()
        _ = try retrying { Glibc.lstat(path, &status) }
        return status
    }

    /// The target of the symbolic link `path`, into `buffer`: its length, without a terminating NUL.
    @inline(__always)
    static func readlink(
        _ path: UnsafePointer<CChar>, _ buffer: UnsafeMutablePointer<CChar>, _ count: Int
    ) throws(SystemCallError) -> Int {
        try retrying { Glibc.readlink(path, buffer, count) }
    }

    @inline(__always)
    static func unlink(_ path: UnsafePointer<CChar>) throws(SystemCallError) {
        _ = try retrying { Glibc.unlink(path) }
    }

    @inline(__always)
    static func chmod(_ path: UnsafePointer<CChar>, _ mode: mode_t) throws(SystemCallError) {
        _ = try retrying { Glibc.chmod(path, mode) }
    }

    /// Gives `path` to `group`, leaving its owner as it is.
    @inline(__always)
    static func chown(_ path: UnsafePointer<CChar>, group: gid_t) throws(SystemCallError) {
        _ = try retrying { Glibc.chown(path, uid_t.max, group) }
    }

    /// Sets the file mode creation mask and returns the one before. It cannot fail.
    @inline(__always)
    static func umask(_ mask: mode_t) -> mode_t {
        Glibc.umask(mask)
    }

    /// A pipe: both ends blocking and inherited across exec, as `pipe` makes them.
    @inline(__always)
    static func pipe() throws(SystemCallError) -> (read: Int32, write: Int32) {
        var fds: (Int32, Int32) = (-1, -1)
        _ = try retrying {
            withUnsafeMutableBytes(of: &fds) { Glibc.pipe($0.baseAddress!.assumingMemoryBound(to: Int32.self)) }
        }
        return (fds.0, fds.1)
    }

    /// A second descriptor for what `fd` is open as, close-on-exec, at the lowest free number.
    @inline(__always)
    static func duplicate(_ fd: Int32) throws(SystemCallError) -> Int32 {
        try retrying { fcntl(fd, F_DUPFD_CLOEXEC, 0) }
    }

    /// Whether `fd` is closed by exec (`FD_CLOEXEC`, the one descriptor flag Linux has).
    @inline(__always)
    static func isCloseOnExec(_ fd: Int32) throws(SystemCallError) -> Bool {
        try retrying { fcntl(fd, F_GETFD) } & FD_CLOEXEC != 0
    }

    /// The status flags of what `fd` is open as (`O_NONBLOCK`, the access mode, ...).
    @inline(__always)
    static func statusFlags(_ fd: Int32) throws(SystemCallError) -> Int32 {
        try retrying { fcntl(fd, F_GETFL) }
    }

    /// A memory file, close-on-exec, that can be sealed.
    @inline(__always)
    static func sealableMemoryFile(name: String) throws(SystemCallError) -> Int32 {
        try retrying { clinux_memfd_create(name, CLINUX_MFD_CLOEXEC | CLINUX_MFD_ALLOW_SEALING) }
    }

    @inline(__always)
    static func addSeals(_ fd: Int32, _ seals: Int32) throws(SystemCallError) {
        _ = try retrying { fcntl(fd, CLINUX_F_ADD_SEALS, seals) }
    }

    @inline(__always)
    static func seals(_ fd: Int32) throws(SystemCallError) -> Int32 {
        try retrying { fcntl(fd, CLINUX_F_GET_SEALS) }
    }

    // MARK: Sockets

    /// A stream socket of `family`, close-on-exec, with `flags` (`SOCK_NONBLOCK`) besides.
    @inline(__always)
    static func socket(_ family: Int32, flags: Int32 = 0) throws(SystemCallError) -> Int32 {
        try retrying { Glibc.socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | flags, 0) }
    }

    @inline(__always)
    static func bind(
        _ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t
    ) throws(SystemCallError) {
        _ = try retrying { Glibc.bind(fd, address, length) }
    }

    @inline(__always)
    static func listen(_ fd: Int32, backlog: Int32) throws(SystemCallError) {
        _ = try retrying { Glibc.listen(fd, backlog) }
    }

    /// Made once, whatever stops it: see the EINTR rule.
    @inline(__always)
    static func connect(
        _ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t
    ) throws(SystemCallError) {
        _ = try once { Glibc.connect(fd, address, length) }
    }

    /// A connection from the listening socket `fd`, whose address is not asked for, closed on exec: `accept4`
    /// sets `FD_CLOEXEC` in the same call, where `accept` and then `fcntl` took two per connection.
    @inline(__always)
    static func accept(_ fd: Int32) throws(SystemCallError) -> Int32 {
        try retrying { clinux_accept4(fd, Int32(SOCK_CLOEXEC.rawValue)) }
    }

    @inline(__always)
    static func send(
        _ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, flags: Int32
    ) throws(SystemCallError) -> Int {
        try retrying { Glibc.send(fd, buffer, count, flags) }
    }

    @inline(__always)
    static func recv(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) throws(SystemCallError) -> Int {
        try retrying { Glibc.recv(fd, buffer, count, 0) }
    }

    /// An integer socket option (`SO_ACCEPTCONN`, `SO_ERROR`).
    @inline(__always)
    static func socketOption(_ fd: Int32, _ level: Int32, _ name: Int32) throws(SystemCallError) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try retrying { getsockopt(fd, level, name, &value, &length) }
        return value
    }

    /// The address the socket `fd` is bound to, into `address`; `length` is its size, then the address's.
    @inline(__always)
    static func getsockname(
        _ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>, _ length: UnsafeMutablePointer<socklen_t>
    ) throws(SystemCallError) {
        _ = try retrying { Glibc.getsockname(fd, address, length) }
    }

    /// The address of the peer of the connected socket `fd`, as `getsockname` gives its own.
    @inline(__always)
    static func getpeername(
        _ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>, _ length: UnsafeMutablePointer<socklen_t>
    ) throws(SystemCallError) {
        _ = try retrying { Glibc.getpeername(fd, address, length) }
    }

    // MARK: Waiting

    /// How many of `fds` are ready, within `timeout` milliseconds (-1: no limit); 0 after the timeout, or a signal.
    @inline(__always)
    static func poll(
        _ fds: UnsafeMutablePointer<pollfd>, _ count: Int, timeout: Int32
    ) throws(SystemCallError) -> Int32 {
        try waiting { Glibc.poll(fds, nfds_t(count), timeout) }
    }

    /// An epoll set, close-on-exec.
    @inline(__always)
    static func epollCreate() throws(SystemCallError) -> Int32 {
        try retrying { epoll_create1(Int32(EPOLL_CLOEXEC)) }
    }

    /// Adds `fd` to the set `epoll`, for `events`, reported with `fd` as their data.
    @inline(__always)
    static func epollAdd(_ epoll: Int32, _ fd: Int32, events: UInt32) throws(SystemCallError) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        _ = try retrying { epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) }
    }

    /// Up to `count` events into `events`, waiting for them without a limit; 0 after a signal.
    @inline(__always)
    static func epollWait(
        _ epoll: Int32, _ events: UnsafeMutablePointer<epoll_event>, _ count: Int32
    ) throws(SystemCallError) -> Int32 {
        try waiting { epoll_wait(epoll, events, count, -1) }
    }

    // MARK: Processes

    /// Starts `path` with `argv` and `envp`; posix_spawn reports its error itself, not through errno.
    @inline(__always)
    static func spawn(
        _ path: String, actions: inout posix_spawn_file_actions_t, attributes: inout posix_spawnattr_t,
        argv: [UnsafeMutablePointer<CChar>?], envp: [UnsafeMutablePointer<CChar>?]
    ) throws(SystemCallError) -> pid_t {
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard result == 0 else { throw SystemCallError(code: result) }
        return pid
    }

    /// Replaces this process by `path`; returns only when it could not, with why.
    @inline(__always)
    static func execve(
        _ path: String, argv: [UnsafeMutablePointer<CChar>?], envp: [UnsafeMutablePointer<CChar>?]
    ) -> SystemCallError {
        _ = Glibc.execve(path, argv, envp)
        return SystemCallError(code: errno)
    }

    /// A child that ended: `pid`, or any (-1). With `WNOHANG` in `options`, nil when none has ended yet.
    @inline(__always)
    static func waitpid(_ pid: pid_t, options: Int32) throws(SystemCallError) -> (pid: pid_t, status: Int32)? {
        var status: Int32 = 0
        let ended = try retrying { Glibc.waitpid(pid, &status, options) }
        return ended == 0 ? nil : (ended, status)
    }

    /// Succeeds when `pid` is a child of this process, running or ended and not yet reaped; reaps nothing.
    @inline(__always)
    static func waitidWithoutReaping(_ pid: pid_t) throws(SystemCallError) {
        var info = siginfo_t()
        _ = try retrying { waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) }
    }

    /// Sends `signal` to `pid`; ESRCH when there is no such process.
    @inline(__always)
    static func kill(_ pid: pid_t, _ signal: Int32) throws(SystemCallError) {
        _ = try retrying { Glibc.kill(pid, signal) }
    }

    /// This process's id. It cannot fail.
    @inline(__always)
    static func getpid() -> pid_t { Glibc.getpid() }

    /// The parent's id: 1, or a subreaper's, once the parent has ended. It cannot fail.
    @inline(__always)
    package static func getppid() -> Int32 { Glibc.getppid() }

    /// The user id that file permissions are checked against. It cannot fail.
    @inline(__always)
    static func geteuid() -> uid_t { Glibc.geteuid() }
}

/// glibc's `stat` function, which `SystemCall.stat` and the `stat` structure hide inside `SystemCall`.
@inline(__always)
private func statFunction(_ path: UnsafePointer<CChar>, _ status: UnsafeMutablePointer<stat>) -> Int32 {
    stat(path, status)
}

/// The system calls whose failure the program rides out on purpose, each for the reason its comment gives. They
/// return nothing to check; the raw calls are made here, with `SystemCall`'s EINTR rule.
enum BestEffort {
    /// Never made again, and its error is not reported: Linux releases the descriptor whatever close says, even
    /// EINTR, so a second close could close another thread's new descriptor of the same number; and nothing the
    /// program closes (sockets, pipes, files open to read, an epoll set) has written data that close could lose.
    @inline(__always)
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// One byte to a wake-up or ready pipe. A full pipe (EAGAIN) wakes its reader already, and a pipe nobody reads
    /// any more (EPIPE, with SIGPIPE ignored) has nobody to wake.
    @inline(__always)
    static func writeByte(to fd: Int32) {
        var byte: UInt8 = 1
        _ = try? SystemCall.write(fd, &byte, 1)
    }

    /// Removes a socket file. Before a bind, one left in place makes the bind fail, and that failure is reported;
    /// at a stop, one left in place is stale, and the next start replaces it.
    @inline(__always)
    static func unlink(_ path: UnsafePointer<CChar>) {
        _ = try? SystemCall.unlink(path)
    }

    /// Sends `signal` to a child that is being stopped or killed: one that is already gone (ESRCH) needs no signal,
    /// and is reaped all the same.
    @inline(__always)
    static func kill(_ pid: pid_t, _ signal: Int32) {
        _ = try? SystemCall.kill(pid, signal)
    }

    /// Shuts a connection down, to cut it. One that has already ended (ENOTCONN) needs no cutting.
    @inline(__always)
    static func shutdown(_ fd: Int32, _ how: Int32) {
        _ = Glibc.shutdown(fd, how)
    }

    /// Sleeps about `microseconds`; a signal ends it early, and every caller looks at its state and sleeps again.
    @inline(__always)
    static func sleep(microseconds: UInt32) {
        _ = usleep(microseconds)
    }

    /// Waits up to `milliseconds` for one of `fds` to be ready, as a sleep that ends early: every caller looks at
    /// its own state afterwards, whatever woke it, and a poll that failed (ENOMEM) is made again by its loop.
    @inline(__always)
    static func wait(_ fds: UnsafeMutablePointer<pollfd>, _ count: Int, milliseconds: Int32) {
        _ = try? SystemCall.poll(fds, count, timeout: milliseconds)
    }

    // The calls below cannot fail as the program makes them: they fail only for a descriptor that is not open or
    // not a socket (EBADF, ENOTSOCK), an option or a signal that does not exist (EINVAL, ENOPROTOOPT), and their
    // callers pass a descriptor they hold and constants. Should one fail all the same, the program goes on as
    // without it, as it always has.

    /// Sets or clears `FD_CLOEXEC` on `fd`.
    @inline(__always)
    static func setCloseOnExec(_ fd: Int32, _ closeOnExec: Bool = true) {
        _ = fcntl(fd, F_SETFD, closeOnExec ? FD_CLOEXEC : 0)
    }

    /// Makes what `fd` is open as non-blocking, its other status flags as they are.
    @inline(__always)
    static func setNonBlocking(_ fd: Int32) {
        guard let flags = try? SystemCall.statusFlags(fd) else { return }
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    /// An integer socket option.
    @inline(__always)
    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var value = value
        _ = setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    /// A time socket option (`SO_RCVTIMEO`, `SO_SNDTIMEO`).
    @inline(__always)
    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: timeval) {
        var value = value
        _ = setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Installs `action` for `signal`.
    @inline(__always)
    static func setAction(_ signal: Int32, _ action: inout sigaction) {
        _ = sigaction(signal, &action, nil)
    }

    /// Ignores `signal` (SIG_IGN).
    @inline(__always)
    static func ignore(_ signal: Int32) {
        _ = Glibc.signal(signal, SIG_IGN)
    }

    /// Changes the calling thread's signal mask (`SIG_BLOCK`, `SIG_UNBLOCK`, `SIG_SETMASK`), and returns the one
    /// before.
    @inline(__always)
    @discardableResult
    static func setSignalMask(_ how: Int32, _ set: inout sigset_t) -> sigset_t {
        var previous = sigset_t()
        _ = pthread_sigmask(how, &set, &previous)
        return previous
    }
}
