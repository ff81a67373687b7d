#if canImport(Glibc)
import Glibc
#endif

/// The first step of a reload: runs the new binary as `serve --reload-check` with the supervisor's own command line
/// and environment, and the configuration the supervisor read for it. The new program checks its flags and that
/// configuration as it would at start, and prints its `ReloadPlan`, without accepting on the socket. Anything else
/// (it cannot be executed, it dies, it refuses, it hangs) stops the reload before anything has changed. So does a
/// stop signal: the check is killed, and the daemon stops.
enum ReloadCheck {
    /// How long the check may take.
    static let timeout = Duration.seconds(10)
    /// The most of the check's output and of its messages that is kept.
    static let outputLimit = 65536

    /// The new program's plan, or why it cannot take over. The listening socket is the check's fd 0, so that it
    /// can see what it would serve, and the configuration snapshot, if any, its fd 3.
    static func run(
        _ image: String, arguments: [[UInt8]], listenFD: Int32, configFD: Int32?
    ) -> Result<ReloadPlan, ReloadCheckError> {
        let output: (read: Int32, write: Int32)
        let messages: (read: Int32, write: Int32)
        do {
            output = try ProcessIO.pipe(nonBlockingWrite: false)
        } catch {
            return .failure(.cannotStart(error))
        }
        do {
            messages = try ProcessIO.pipe(nonBlockingWrite: false)
        } catch {
            BestEffort.close(output.read)
            BestEffort.close(output.write)
            return .failure(.cannotStart(error))
        }
        defer { BestEffort.close(output.read) }
        defer { BestEffort.close(messages.read) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if listenFD != 0 { posix_spawn_file_actions_adddup2(&actions, listenFD, 0) }
        posix_spawn_file_actions_adddup2(&actions, output.write, 1)
        posix_spawn_file_actions_adddup2(&actions, messages.write, 2)
        if let configFD { posix_spawn_file_actions_adddup2(&actions, configFD, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        let spawned = ProcessIO.spawn(
            image, arguments: arguments, environment: [], replacing: [], actions: &actions, attributes: &attributes)
        BestEffort.close(output.write)
        BestEffort.close(messages.write)
        guard case .success(let pid) = spawned else {
            if case .failure(let error) = spawned { return .failure(.cannotStart(error)) }
            return .failure(.timedOut)
        }

        var printed: [UInt8] = []
        var said: [UInt8] = []
        var status: Int32 = 0
        let deadline = ContinuousClock.now + timeout
        while true {
            collect(from: output.read, into: &printed)
            collect(from: messages.read, into: &said)
            if case let ended? = try? SystemCall.waitpid(pid, options: WNOHANG) {
                status = ended.status
                break
            }
            if Shutdown.isRequested || ContinuousClock.now > deadline {
                BestEffort.kill(pid, SIGKILL)
                // Reaped, so that it is no zombie; its status says nothing more.
                _ = try? SystemCall.waitpid(pid, options: 0)
                return .failure(Shutdown.isRequested ? .abandoned : .timedOut)
            }
            var fds = [
                pollfd(fd: output.read, events: Int16(POLLIN), revents: 0),
                pollfd(fd: messages.read, events: Int16(POLLIN), revents: 0),
                pollfd(fd: Shutdown.wakeFD, events: Int16(POLLIN), revents: 0),
            ]
            BestEffort.wait(&fds, fds.count, milliseconds: 20)
        }
        collect(from: output.read, into: &printed)
        collect(from: messages.read, into: &said)
        let signal = status & 0x7F
        guard signal == 0 else { return .failure(.killed(signal: signal)) }
        let exit = (status >> 8) & 0xFF
        guard exit == 0 else { return .failure(.refused(exit: exit, message: reason(in: said))) }
        guard let plan = ReloadPlan(decoding: printed) else { return .failure(.unexpectedOutput) }
        return .success(plan)
    }

    /// Reads what `fd` has now, keeping up to `outputLimit` bytes.
    private static func collect(from fd: Int32, into kept: inout [UInt8]) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        // Until it has nothing more now (EAGAIN) or the check has closed it.
        while let count = try? SystemCall.read(fd, &buffer, buffer.count), count > 0 {
            kept += buffer[..<min(count, max(0, outputLimit - kept.count))]
        }
    }

    /// Why the check refused, from what it wrote to standard error: ArgumentParser's `Error: ` line, which usage
    /// text follows, or else the last line.
    private static func reason(in bytes: [UInt8]) -> String {
        let lines = bytes.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
        if let error = lines.first(where: { $0.hasPrefix("Error: ") }) { return String(error.dropFirst(7)) }
        return lines.last(where: { !$0.allSatisfy(\.isWhitespace) }) ?? ""
    }
}
