import CTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What a finished child printed and how it ended.
struct Finished {
    var status: Int32
    var stdout: [UInt8]
    var stderr: [UInt8]
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

enum ChildProcessError: Error, CustomStringConvertible {
    case spawnFailed(String, Int32)
    case timedOut(String)

    var description: String {
        switch self {
        case .spawnFailed(let path, let code): "could not start \(path): errno \(code)"
        case .timedOut(let path): "\(path) did not finish in time"
        }
    }
}

/// A child process started with an exact environment of raw bytes (Foundation's `Process` takes `String`s, which
/// cannot carry a 0xFF byte), its output captured in files.
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    let executable: String
    let directory: String
    private var exitStatus: Int32?

    /// Writing to a child that has exited must fail with EPIPE, not kill the test runner.
    static let ignoreSIGPIPE: Void = { _ = Glibc.signal(SIGPIPE, SIG_IGN) }()

    convenience init(
        _ executable: String,
        _ arguments: [String] = [],
        environment: [(String, [UInt8])],
        stdinFD: Int32? = nil
    ) throws {
        try self.init(executable, rawArguments: arguments.map(bytes), environment: environment, stdinFD: stdinFD)
    }

    /// Arguments as raw bytes, which a `String` could not carry when they are not UTF-8.
    init(
        _ executable: String,
        rawArguments arguments: [[UInt8]],
        environment: [(String, [UInt8])],
        stdinFD: Int32? = nil
    ) throws {
        _ = Self.ignoreSIGPIPE
        self.executable = executable
        directory = try makeScratchDirectory("child")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdinFD {
            posix_spawn_file_actions_adddup2(&actions, stdinFD, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 1, directory + "/stdout", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, directory + "/stderr", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // The child gets 0, 1 and 2 and nothing else, whatever this runner's other threads hold open right now.
        CTestSupport_spawnCloseFrom(&actions, 3)

        // The test runner blocks and ignores signals its children should see as a fresh process does.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptySet = sigset_t()
        sigemptyset(&emptySet)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigmask(&attributes, &emptySet)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv =
            ([bytes(executable)] + arguments).map { argument -> UnsafeMutablePointer<CChar>? in
                let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: argument.count + 1)
                for (index, byte) in argument.enumerated() { pointer[index] = CChar(bitPattern: byte) }
                pointer[argument.count] = 0
                return pointer
            } + [nil]
        // A sanitizer run (scripts/test-sanitizers) configures every process it starts, servers' children too.
        let sanitizerOptions = ["ASAN_OPTIONS", "TSAN_OPTIONS"].compactMap { name in
            ProcessInfo.processInfo.environment[name].map { (name, bytes($0)) }
        }
        let envp =
            (environment + sanitizerOptions).map { name, value -> UnsafeMutablePointer<CChar>? in
                let entry = Array(name.utf8) + [UInt8(ascii: "=")] + value + [0]
                let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: entry.count)
                entry.withUnsafeBytes {
                    pointer.initialize(from: $0.bindMemory(to: CChar.self).baseAddress!, count: entry.count)
                }
                return pointer
            } + [nil]
        defer {
            argv.forEach { $0?.deallocate() }
            envp.forEach { $0?.deallocate() }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else { throw ChildProcessError.spawnFailed(executable, result) }
        self.pid = pid
    }

    /// Waits up to `timeout` seconds; nil when the child is still running.
    func wait(timeout: Double) -> Int32? {
        _ = waitUntil(timeout: .seconds(timeout), every: .milliseconds(5)) {
            if exitStatus != nil { return true }
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == pid else { return false }
            // Exit code, or 128 + signal, as a shell reports it.
            let signal = status & 0x7F
            exitStatus = signal == 0 ? (status >> 8) & 0xFF : 128 + signal
            return true
        }
        return exitStatus
    }

    var isRunning: Bool { wait(timeout: 0) == nil }

    func send(_ signal: Int32) { kill(pid, signal) }

    func stop() {
        guard exitStatus == nil else { return }
        kill(pid, SIGKILL)
        _ = wait(timeout: 5)
    }

    var stdout: [UInt8] { (try? Array(Data(contentsOf: URL(fileURLWithPath: directory + "/stdout")))) ?? [] }
    var stderr: [UInt8] { (try? Array(Data(contentsOf: URL(fileURLWithPath: directory + "/stderr")))) ?? [] }

    deinit { stop() }

    /// Runs a program to its end.
    static func run(
        _ executable: String,
        _ arguments: [String] = [],
        environment: [(String, [UInt8])],
        stdin: [UInt8]? = nil,
        timeout: Double = 10
    ) throws -> Finished {
        try run(
            executable, rawArguments: arguments.map(bytes), environment: environment, stdin: stdin, timeout: timeout)
    }

    static func run(
        _ executable: String,
        rawArguments arguments: [[UInt8]],
        environment: [(String, [UInt8])],
        stdin: [UInt8]? = nil,
        timeout: Double = 10
    ) throws -> Finished {
        var input: Pipe? = nil
        if stdin != nil { input = try Pipe() }
        let child = try ChildProcess(
            executable, rawArguments: arguments, environment: environment, stdinFD: input?.read.raw)
        if let stdin, var pipe = input.take() {
            pipe.read.close()
            writeAll(stdin, to: pipe.write.raw)
        }
        guard let status = child.wait(timeout: timeout) else {
            child.stop()
            throw ChildProcessError.timedOut(executable)
        }
        return Finished(status: status, stdout: child.stdout, stderr: child.stderr)
    }
}

/// Writes everything, or stops at the first error. Returns how many bytes went out.
@discardableResult
func writeAll(_ bytes: [UInt8], to fd: Int32) -> Int {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                break
            }
            offset += written
        }
        return offset
    }
}

/// A new directory under /tmp, removed with everything in it when the test process exits, so that `swift test`
/// leaves the host as it found it. `OAFC_KEEP_SCRATCH=1` keeps them, for reading a failed test's logs.
func makeScratchDirectory(_ label: String) throws -> String {
    _ = ScratchDirectories.removedAtExit
    var template = Array("/tmp/oafc-\(label)-XXXXXX".utf8CString)
    guard let path = mkdtemp(&template) else { throw ChildProcessError.spawnFailed("mkdtemp", errno) }
    let directory = String(cString: path)
    ScratchDirectories.made.withLock { $0.append(directory) }
    return directory
}

enum ScratchDirectories {
    static let made = Locked([String]())

    static let removedAtExit: Void = {
        guard ProcessInfo.processInfo.environment["OAFC_KEEP_SCRATCH"] == nil else { return }
        atexit {
            for directory in ScratchDirectories.made.withLock({ $0 }) {
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
    }()
}

func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

/// The executable under test: `OAUTH_FORWARD_BINARY`, or the one `swift build` put beside the test bundle.
enum Binary {
    static let path: String = {
        if let path = ProcessInfo.processInfo.environment["OAUTH_FORWARD_BINARY"] { return path }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("oauth-forward-cgi").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return bundle.deletingLastPathComponent().appendingPathComponent("oauth-forward-cgi").path
    }()
}

/// Whether this run is a sanitizer build (scripts/test-sanitizers): the test runner is built like the program.
/// Under one, the program runs several times slower and its memory is the sanitizer's, so bounds on time and
/// RSS that describe the release build are widened or not read.
let underSanitizer = ["__asan_init", "__tsan_init"].contains { (name: String) in
    dlsym(dlopen(nil, RTLD_NOW), name) != nil
}

/// A file from Debian's packages that a test needs: a web server, a FastCGI peer, a module. Missing, the test fails
/// with one line that names the command installing all of them.
func requireTool(_ path: String, package: String) throws {
    guard FileManager.default.fileExists(atPath: path) else { throw MissingTool(path: path, package: package) }
}

struct MissingTool: Error, CustomStringConvertible {
    let path: String
    let package: String

    var description: String { "\(path) not found: run scripts/install-packages test (Debian's \(package))" }
}
