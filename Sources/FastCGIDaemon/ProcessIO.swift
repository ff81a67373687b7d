#if canImport(Glibc)
import Glibc
#endif

/// What the program does with files, pipes and processes, built on `SystemCall`, which makes the system calls.
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
        guard let length = try? SystemCall.readlink("/proc/self/exe", &buffer, buffer.count - 1), length > 0 else {
            return nil
        }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The whole of a small file: at most `limit` bytes, or EFBIG.
    package static func readFile(_ path: String, limit: Int) -> Result<[UInt8], SystemCallError> {
        let fd: Int32
        do {
            fd = try SystemCall.open(path, O_RDONLY | O_CLOEXEC)
        } catch {
            return .failure(error)
        }
        defer { BestEffort.close(fd) }
        return readAll(fd, limit: limit)
    }

    /// The whole of a small file open as `fd`, from its first byte, whatever the descriptor's offset: at most
    /// `limit` bytes, or EFBIG. A pipe, which has no offset, is read as it comes.
    static func readAll(_ fd: Int32, limit: Int) -> Result<[UInt8], SystemCallError> {
        var content: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var positional = true
        while true {
            let count: Int
            do {
                if positional {
                    do {
                        count = try SystemCall.pread(fd, &buffer, buffer.count, at: content.count)
                    } catch let error where error.code == ESPIPE {
                        positional = false
                        continue
                    }
                } else {
                    count = try SystemCall.read(fd, &buffer, buffer.count)
                }
            } catch {
                return .failure(error)
            }
            if count == 0 { return .success(content) }
            content += buffer[..<count]
            if content.count > limit { return .failure(SystemCallError(code: EFBIG)) }
        }
    }

    /// Whether `pid` is a child of this process, running or ended and not yet reaped; the check reaps nothing.
    static func isChild(_ pid: pid_t) -> Bool {
        do {
            try SystemCall.waitidWithoutReaping(pid)
            return true
        } catch {
            return false
        }
    }

    /// A pipe, both ends close-on-exec, its read end non-blocking, for a loop to poll; `nonBlockingWrite` for a
    /// signal handler to write a byte to, which a full pipe must never block.
    static func pipe(nonBlockingWrite: Bool) throws(SystemCallError) -> (read: Int32, write: Int32) {
        let fds = try SystemCall.pipe()
        BestEffort.setCloseOnExec(fds.read)
        BestEffort.setCloseOnExec(fds.write)
        BestEffort.setNonBlocking(fds.read)
        if nonBlockingWrite { BestEffort.setNonBlocking(fds.write) }
        return fds
    }

    /// Starts `path` with `arguments` (argv[0] first) and this process's environment, bytes and all, less the
    /// variables named in `replacing`, plus `environment`.
    static func spawn(
        _ path: String, arguments: [[UInt8]], environment: [String], replacing: [String],
        actions: inout posix_spawn_file_actions_t, attributes: inout posix_spawnattr_t
    ) -> Result<pid_t, SystemCallError> {
        withProcessBlocks(arguments, environment, replacing) { argv, envp in
            do throws(SystemCallError) {
                return .success(
                    try SystemCall.spawn(path, actions: &actions, attributes: &attributes, argv: argv, envp: envp))
            } catch {
                return .failure(error)
            }
        }
    }

    /// Replaces this process by `path`, with the environment as `spawn` makes it. Returns only on failure.
    static func execute(
        _ path: String, arguments: [[UInt8]], environment: [String], replacing: [String]
    ) -> SystemCallError {
        withProcessBlocks(arguments, environment, replacing) { argv, envp in
            SystemCall.execve(path, argv: argv, envp: envp)
        }
    }

    private static func withProcessBlocks<Outcome>(
        _ arguments: [[UInt8]], _ environment: [String], _ replacing: [String],
        _ body: ([UnsafeMutablePointer<CChar>?], [UnsafeMutablePointer<CChar>?]) -> Outcome
    ) -> Outcome {
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

    /// Writes all of `bytes` to `fd`, riding out partial writes.
    static func write(_ bytes: [UInt8], to fd: Int32) throws(SystemCallError) {
        try bytes.withUnsafeBufferPointer { (buffer) throws(SystemCallError) in
            var offset = 0
            while offset < buffer.count {
                offset += try SystemCall.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            }
        }
    }

    /// Writes all of `bytes` to `fd`, riding out partial writes. Returns false when the peer is gone.
    ///
    /// Discardable for a message or a log line, on stderr or a terminal's stdout: a write there that fails has
    /// nowhere left to be reported. A caller that can report it (an answer on stdout) checks it.
    @discardableResult
    package static func writeAll(_ bytes: [UInt8], to fd: Int32) -> Bool {
        // Not `write(_:to:)` and a catch: small, it is inlined into the CGI path, as it was before the layer.
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                guard let written = try? SystemCall.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                else { return false }
                offset += written
            }
            return true
        }
    }

    /// A message or a log line, whose failed write has nowhere left to be reported (see above).
    package static func writeAll(_ text: String, to fd: Int32) {
        writeAll(Array(text.utf8), to: fd)
    }

    /// Reads and discards up to `limit` bytes from `fd`, stopping early at end of file or on an error.
    static func discard(upTo limit: Int, from fd: Int32) {
        // A GET has no body: no buffer then, whose size alone (over 1 KiB) makes it a malloc.
        guard limit > 0 else { return }
        var remaining = limit
        withUnsafeTemporaryAllocation(byteCount: 16384, alignment: 1) { buffer in
            while remaining > 0 {
                guard let count = try? SystemCall.read(fd, buffer.baseAddress!, min(remaining, buffer.count)),
                    count > 0
                else { return }
                remaining -= count
            }
        }
    }
}
