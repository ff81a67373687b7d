#if canImport(Glibc)
import Glibc
#endif

/// The few system calls the executable makes, with their retry rules in one place.
package enum ProcessIO {
    /// The bytes of an environment variable, exactly as the process received them.
    package static func environment(_ name: String) -> [UInt8]? {
        guard let value = getenv(name) else { return nil }
        return bytes(ofCString: value)
    }

    /// The raw bytes of the command-line argument that ArgumentParser read as `parsed`: the last argument that
    /// decodes to it. ArgumentParser's `String` has invalid UTF-8 replaced by U+FFFD, which changes the bytes.
    package static func rawArgument(decodingTo parsed: String) -> [UInt8] {
        let arguments = (0..<Int(CommandLine.argc)).compactMap {
            CommandLine.unsafeArgv[$0].map { bytes(ofCString: $0) }
        }
        return arguments.last { String(decoding: $0, as: UTF8.self) == parsed } ?? Array(parsed.utf8)
    }

    /// `body` with `bytes`, a path or a name that may not be valid UTF-8, as a NUL-terminated C string.
    static func withCString<Result>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> Result) -> Result {
        var terminated = bytes
        terminated.append(0)
        return terminated.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
        }
    }

    package static func bytes(ofCString pointer: UnsafePointer<CChar>) -> [UInt8] {
        let count = strlen(pointer)
        return pointer.withMemoryRebound(to: UInt8.self, capacity: count) {
            Array(UnsafeBufferPointer(start: $0, count: count))
        }
    }

    /// This binary's own path, from /proc/self/exe: so that workers show under its name in `ps`, a reload finds
    /// the file that replaced it, and `check` finds the settings file beside it. Nil without /proc.
    package static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The whole of a small file: at most `limit` bytes, or EFBIG.
    package static func readFile(_ path: String, limit: Int) -> Result<[UInt8], SystemCallError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(SystemCallError(code: errno)) }
        defer { close(fd) }
        return readAll(fd, limit: limit)
    }

    /// The whole of a small file open as `fd`, from its first byte, whatever the descriptor's offset: at most
    /// `limit` bytes, or EFBIG. A pipe, which has no offset, is read as it comes.
    static func readAll(_ fd: Int32, limit: Int) -> Result<[UInt8], SystemCallError> {
        var content: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var positional = true
        while true {
            var count = positional ? pread(fd, &buffer, buffer.count, off_t(content.count)) : -1
            if count < 0 && positional && errno == ESPIPE { positional = false }
            if !positional { count = read(fd, &buffer, buffer.count) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 { return .failure(SystemCallError(code: errno)) }
            if count == 0 { return .success(content) }
            content += buffer[..<count]
            if content.count > limit { return .failure(SystemCallError(code: EFBIG)) }
        }
    }

    /// Whether `pid` is a child of this process, running or ended and not yet reaped; the check reaps nothing.
    static func isChild(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        while true {
            if waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 { return true }
            if errno != EINTR { return false }
        }
    }

    /// A pipe for a signal handler to write a byte to and a loop to poll: both ends non-blocking, so a full pipe
    /// never blocks the handler, and close-on-exec.
    static func signalPipe() -> (read: Int32, write: Int32)? {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return nil }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        return (fds[0], fds[1])
    }

    /// Starts `path` with `arguments` (argv[0] first) and this process's environment, bytes and all, less the
    /// variables named in `replacing`, plus `environment`.
    static func spawn(
        _ path: String, arguments: [[UInt8]], environment: [String], replacing: [String],
        actions: inout posix_spawn_file_actions_t, attributes: inout posix_spawnattr_t
    ) -> Result<pid_t, SystemCallError> {
        var pid: pid_t = 0
        let result = withProcessBlocks(arguments, environment, replacing) { argv, envp in
            posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        }
        return result == 0 ? .success(pid) : .failure(SystemCallError(code: result))
    }

    /// Replaces this process by `path`, with the environment as `spawn` makes it. Returns only on failure.
    static func execute(
        _ path: String, arguments: [[UInt8]], environment: [String], replacing: [String]
    ) -> SystemCallError {
        _ = withProcessBlocks(arguments, environment, replacing) { argv, envp in execve(path, argv, envp) }
        return SystemCallError(code: errno)
    }

    private static func withProcessBlocks(
        _ arguments: [[UInt8]], _ environment: [String], _ replacing: [String],
        _ body: ([UnsafeMutablePointer<CChar>?], [UnsafeMutablePointer<CChar>?]) -> Int32
    ) -> Int32 {
        let replaced = replacing.map { Array("\($0)=".utf8) }
        var inherited: [UnsafeMutablePointer<CChar>?] = []
        var index = 0
        while let entry = environ[index] {
            let isReplaced = replaced.contains { prefix in
                prefix.indices.allSatisfy { entry[$0] == CChar(bitPattern: prefix[$0]) }
            }
            if !isReplaced { inherited.append(entry) }
            index += 1
        }
        let argv = arguments.map { bytes in bytes.withUnsafeBufferPointer { duplicate($0) } } + [nil]
        let added = environment.map { strdup($0) }
        defer {
            argv.forEach { free($0) }
            added.forEach { free($0) }
        }
        return body(argv, inherited + added + [nil])
    }

    /// A NUL-terminated copy of `bytes`, for `free`.
    private static func duplicate(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeMutablePointer<CChar>? {
        let copy = malloc(bytes.count + 1)!.assumingMemoryBound(to: CChar.self)
        for (offset, byte) in bytes.enumerated() { copy[offset] = CChar(bitPattern: byte) }
        copy[bytes.count] = 0
        return copy
    }

    /// Writes all of `bytes` to `fd`, riding out partial writes and signals. Returns false when the peer is gone.
    @discardableResult
    package static func writeAll(_ bytes: [UInt8], to fd: Int32) -> Bool {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }

    package static func writeAll(_ text: String, to fd: Int32) {
        writeAll(Array(text.utf8), to: fd)
    }

    /// Reads and discards up to `limit` bytes from `fd`, stopping early at end of file or on an error.
    static func discard(upTo limit: Int, from fd: Int32) {
        var remaining = limit
        withUnsafeTemporaryAllocation(byteCount: 16384, alignment: 1) { buffer in
            while remaining > 0 {
                let count = read(fd, buffer.baseAddress!, min(remaining, buffer.count))
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { return }
                remaining -= count
            }
        }
    }
}
