internal import CLinux

#if canImport(Glibc)
import Glibc
#endif

/// The configuration file as a reload read it, once: its bytes in a sealed memory file, which neither the
/// supervisor nor anyone else can change. The reload's check reads these bytes, and so does the program that
/// takes over, so what was checked is what runs, whatever happens to the file on disk meanwhile.
package enum ConfigurationSnapshot {
    /// Reads `path`, which must be a regular file of at most `limit` bytes, into a sealed memory file.
    static func make(path: String, limit: Int) -> Result<Int32, SnapshotError> {
        // Non-blocking, so that a FIFO cannot hold the supervisor; then refused for not being a regular file.
        let file: Int32
        let status: stat
        do {
            file = try SystemCall.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        } catch {
            return .failure(.cannotRead(error))
        }
        defer { BestEffort.close(file) }
        do {
            status = try SystemCall.fstat(file)
        } catch {
            return .failure(.cannotRead(error))
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else { return .failure(.notRegular) }
        let bytes: [UInt8]
        switch ProcessIO.readAll(file, limit: limit) {
        case .success(let read): bytes = read
        case .failure(let error): return .failure(.cannotRead(error))
        }
        let snapshot: Int32
        do {
            snapshot = try SystemCall.sealableMemoryFile(name: "oauth-forward-cgi-config")
        } catch {
            return .failure(.cannotKeep(error))
        }
        let seals = CLINUX_F_SEAL_SEAL | CLINUX_F_SEAL_SHRINK | CLINUX_F_SEAL_GROW | CLINUX_F_SEAL_WRITE
        do {
            try ProcessIO.write(bytes, to: snapshot)
            try SystemCall.addSeals(snapshot, seals)
        } catch {
            BestEffort.close(snapshot)
            return .failure(.cannotKeep(error))
        }
        return .success(snapshot)
    }

    /// Whether `fd` is a memory file that can no longer be written, grown, shrunk or unsealed.
    package static func isSealed(_ fd: Int32) -> Bool {
        let required = CLINUX_F_SEAL_SEAL | CLINUX_F_SEAL_SHRINK | CLINUX_F_SEAL_GROW | CLINUX_F_SEAL_WRITE
        guard let seals = try? SystemCall.seals(fd) else { return false }
        return seals & required == required
    }

    /// The snapshot's bytes, from its start whatever its offset: the check, which shares the offset, read it first.
    package static func read(_ fd: Int32, limit: Int) -> Result<[UInt8], SystemCallError> {
        guard isSealed(fd) else { return .failure(SystemCallError(code: EBADF)) }
        return ProcessIO.readAll(fd, limit: limit)
    }

    enum SnapshotError: Error {
        case cannotRead(SystemCallError)
        case notRegular
        case cannotKeep(SystemCallError)

        var message: String {
            switch self {
            case .cannotRead(let error): "cannot be read: \(error.message)"
            case .notRegular: "is not a regular file, which a reload reads again"
            case .cannotKeep(let error): "cannot be kept for the new program: \(error.message)"
            }
        }
    }
}
