import OAuthForward

#if canImport(Glibc)
import Glibc
#endif

/// Reads `ScriptSettings`' file for a CGI request: one failed `open` when there is none, one `open`, `fstat` and
/// `read` when there is.
package enum ScriptSettingsFile {
    package enum Lookup {
        case absent
        case found(SettingsFile)
        /// It exists and cannot be used: every request answers 500 with this in the log.
        case refused(ConfigurationError)
    }

    /// The file beside the script at `scriptFilename` (`SCRIPT_FILENAME`).
    package static func lookup(besideScript scriptFilename: [UInt8]?) -> Lookup {
        guard let scriptFilename, let path = ScriptSettings.path(besideScript: scriptFilename) else { return .absent }
        return lookup(at: path)
    }

    package static func lookup(at path: [UInt8]) -> Lookup {
        let name = String(decoding: path, as: UTF8.self)
        func refused(_ problem: SettingsFileProblem) -> Lookup { .refused(.settingsFile(path: name, problem)) }
        // Non-blocking, so that a FIFO put there cannot hang the request; fstat refuses it next.
        let fd = (path + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        }
        guard fd >= 0 else {
            return errno == ENOENT || errno == ENOTDIR ? .absent : refused(.unreadable(errorText()))
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { return refused(.unreadable(errorText())) }
        if let problem = ScriptSettings.problem(mode: status.st_mode, owner: status.st_uid, runningAs: geteuid()) {
            return refused(problem)
        }
        guard status.st_size <= ScriptSettings.sizeLimit else { return refused(.tooLarge) }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size) + 1)
        var count = 0
        while count < bytes.count {
            let got = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if got < 0 && errno == EINTR { continue }
            if got < 0 { return refused(.unreadable(errorText())) }
            if got == 0 { break }
            count += got
        }
        guard count <= ScriptSettings.sizeLimit else { return refused(.tooLarge) }
        do throws(SettingsFileError) {
            return .found(try SettingsFile(parsing: Array(bytes[..<count]), allowsOptions: false))
        } catch {
            return refused(.syntax(error))
        }
    }

    /// The configuration of a CGI request: the environment's values, and the file's for the variables the
    /// environment leaves unset. The file is not looked for when the environment sets all four.
    package static func configuration(
        environment: ConfigurationValues, scriptFilename: [UInt8]?
    ) -> ConfigurationResult {
        guard
            environment.target == nil || environment.providers == nil || environment.environments == nil
                || environment.fallback == nil
        else { return environment.configuration() }
        switch lookup(besideScript: scriptFilename) {
        case .absent: return environment.configuration()
        case .found(let file): return environment.overriding(file.configurationValues).configuration()
        case .refused(let error): return .failure(error)
        }
    }
}
