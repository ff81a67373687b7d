#if canImport(Glibc)
import Glibc
#endif

/// The first step of a reload: runs the binary now on disk as `serve --reload-check` with the supervisor's own
/// command line and environment. The new program checks its flags and its configuration as it would at start and
/// prints its version, without accepting on the socket. Anything else (it cannot be executed, it dies, it refuses the
/// configuration, it hangs) stops the reload before the running program replaces itself.
enum ReloadCheck {
    /// How long the check may take.
    static let timeout = Duration.seconds(10)

    /// The new program's version, or why it cannot take over. Its own messages go to the shared standard error.
    /// The listening socket is the check's fd 0, so that the new program can see what it would serve.
    static func run(_ executable: String, arguments: [[UInt8]], listenFD: Int32) -> Result<String, ReloadCheckError> {
        var output: [Int32] = [-1, -1]
        guard pipe(&output) == 0 else { return .failure(.cannotStart(SystemCallError(code: errno))) }
        defer { close(output[0]) }
        _ = fcntl(output[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(output[0], F_SETFL, O_NONBLOCK)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if listenFD != 0 { posix_spawn_file_actions_adddup2(&actions, listenFD, 0) }
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_addclose(&actions, output[1])
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        let spawned = ProcessIO.spawn(
            executable, arguments: arguments, environment: [], replacing: [], actions: &actions,
            attributes: &attributes)
        close(output[1])
        guard case .success(let pid) = spawned else {
            if case .failure(let error) = spawned { return .failure(.cannotStart(error)) }
            return .failure(.timedOut)
        }

        var printed: [UInt8] = []
        var status: Int32 = 0
        let deadline = ContinuousClock.now + timeout
        while true {
            var buffer = [UInt8](repeating: 0, count: 256)
            let count = read(output[0], &buffer, buffer.count)
            if count > 0 && printed.count < 4096 { printed += buffer[..<count] }
            if waitpid(pid, &status, WNOHANG) == pid { break }
            if ContinuousClock.now > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                return .failure(.timedOut)
            }
            var pfd = pollfd(fd: output[0], events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, 20)
        }
        var buffer = [UInt8](repeating: 0, count: 256)
        while case let count = read(output[0], &buffer, buffer.count), count > 0, printed.count < 4096 {
            printed += buffer[..<count]
        }
        let signal = status & 0x7F
        guard signal == 0 else { return .failure(.killed(signal: signal)) }
        let exit = (status >> 8) & 0xFF
        guard exit == 0 else { return .failure(.refused(exit: exit)) }
        let version = String(decoding: printed, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        guard !version.isEmpty, version.allSatisfy({ $0.isLetter || $0.isNumber || ".-+~_".contains($0) }) else {
            return .failure(.unexpectedOutput)
        }
        return .success(version)
    }
}
