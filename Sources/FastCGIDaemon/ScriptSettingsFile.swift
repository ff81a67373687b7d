import OAuthForward

#if canImport(Glibc)
import Glibc
#endif

/// Reads `ScriptSettings`' file for a CGI request: one failed `open` when there is none; when there is, one `open`,
/// `fstat`, `stat` of its directory and `read`, and a `stat` of the program file when its owner must be known.
package enum ScriptSettingsFile {
    package enum Lookup {
        case absent
        /// The five variables as the file sets them.
        case found(ConfigurationValues)
        /// It exists and cannot be used: every request answers 500 with this in the log.
        case refused(ConfigurationError)
    }

    /// The file beside the script at `scriptFilename` (`SCRIPT_FILENAME`).
    package static func lookup(besideScript scriptFilename: [UInt8]?) -> Lookup {
        guard let scriptFilename, let path = ScriptSettings.path(besideScript: scriptFilename) else { return .absent }
        return lookup(at: path, program: scriptFilename)
    }

    /// The file at `path`, for the program at `program`, whose owner may own the file too.
    package static func lookup(at path: [UInt8], program: [UInt8]) -> Lookup {
        // Non-blocking, so that a FIFO put there cannot hang the request; fstat refuses it next. A symbolic link is
        // never followed: it could name any file the program may read.
        let fd: Int32
        do {
            guard let opened = try SystemCall.openIfPresent(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW) else {
                return .absent
            }
            fd = opened
        } catch {
            if error.code == ELOOP { return refusal(path, .symbolicLink) }
            return refusal(path, .unreadable(error.message))
        }
        defer { BestEffort.close(fd) }
        let status: stat
        do {
            status = try SystemCall.fstat(fd)
        } catch {
            return refusal(path, .unreadable(error.message))
        }
        // The program file's owner, looked up once and only when a rule needs it.
        var programOwnerLookedUp = false
        var programOwnerFound: UInt32? = nil
        let programOwner = { () -> UInt32? in
            if programOwnerLookedUp { return programOwnerFound }
            programOwnerLookedUp = true
            do {
                programOwnerFound = try SystemCall.stat(program).st_uid
            } catch {
                // Not found: nil, as ScriptSettings.problem takes it.
            }
            return programOwnerFound
        }
        if let problem = ScriptSettings.problem(
            mode: status.st_mode, owner: status.st_uid, runningAs: SystemCall.geteuid(), programOwner: programOwner)
        {
            return refusal(path, problem)
        }
        // The directory: the path up to its last slash, which ScriptSettings.path always puts there.
        var directory = [UInt8(ascii: "/")]
        if let slash = path.lastIndex(of: UInt8(ascii: "/")), slash > 0 { directory = Array(path[..<slash]) }
        let directoryStatus: stat
        do {
            directoryStatus = try SystemCall.stat(directory)
        } catch {
            return refusal(path, .unreadable(error.message))
        }
        if let problem = ScriptSettings.directoryProblem(
            mode: directoryStatus.st_mode, owner: directoryStatus.st_uid, programOwner: programOwner)
        {
            return refusal(path, problem)
        }
        guard status.st_size <= ScriptSettings.sizeLimit else { return refusal(path, .tooLarge) }
        // One read: a regular file gives all it has at once. The buffer holds a byte more than the limit, so that
        // a file that grew past it since fstat shows as too large.
        let capacity = ScriptSettings.sizeLimit + 1
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 1)
        defer { buffer.deallocate() }
        var count = 0
        while count < capacity {
            let got: Int
            do {
                got = try SystemCall.read(fd, buffer + count, capacity - count)
            } catch {
                return refusal(path, .unreadable(error.message))
            }
            if got == 0 { break }
            count += got
            if count >= Int(status.st_size) && count < capacity {
                // All that fstat promised: one more read only if the file may have grown.
                break
            }
        }
        guard count <= ScriptSettings.sizeLimit else { return refusal(path, .tooLarge) }
        let bytes = Array(UnsafeRawBufferPointer(start: buffer, count: count))
        do throws(SettingsFileError) {
            return .found(try SettingsFile.configurationValues(parsing: bytes))
        } catch {
            return refusal(path, .syntax(error))
        }
    }

    /// Only on the way out with an error does the path become text.
    private static func refusal(_ path: [UInt8], _ problem: SettingsFileProblem) -> Lookup {
        .refused(.settingsFile(path: String(decoding: path, as: UTF8.self), problem))
    }

    /// The configuration of a CGI request: the environment's values, and the file's for the variables the
    /// environment leaves unset. The file is not looked for when the environment sets all five. The values are
    /// consumed: left to the caller, its five optionals went through a merged outlined destroy that made the runtime
    /// build `Optional<[UInt8]>`'s metadata on every CGI start, about 29,000 instructions (callgrind,
    /// scripts/test-instructions).
    package static func configuration(
        environment: consuming ConfigurationValues, scriptFilename: [UInt8]?
    ) -> ConfigurationResult {
        guard !environment.isComplete else { return environment.configuration() }
        switch lookup(besideScript: scriptFilename) {
        case .absent: return environment.configuration()
        case .found(let values): return environment.overriding(values).configuration()
        case .refused(let error): return .failure(error)
        }
    }
}
