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
        let file = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard file >= 0 else { return .failure(.cannotRead(SystemCallError(code: errno))) }
        defer { close(file) }
        var status = stat()
        guard fstat(file, &status) == 0 else { return .failure(.cannotRead(SystemCallError(code: errno))) }
        guard (status.st_mode & S_IFMT) == S_IFREG else { return .failure(.notRegular) }
        let bytes: [UInt8]
        switch ProcessIO.readAll(file, limit: limit) {
        case .success(let read): bytes = read
        case .failure(let error): return .failure(.cannotRead(error))
        }
        let snapshot = clinux_memfd_create("oauth-forward-cgi-config", CLINUX_MFD_CLOEXEC | CLINUX_MFD_ALLOW_SEALING)
        guard snapshot >= 0 else { return .failure(.cannotKeep(SystemCallError(code: errno))) }
        let seals = CLINUX_F_SEAL_SEAL | CLINUX_F_SEAL_SHRINK | CLINUX_F_SEAL_GROW | CLINUX_F_SEAL_WRITE
        guard ProcessIO.writeAll(bytes, to: snapshot), fcntl(snapshot, CLINUX_F_ADD_SEALS, seals) == 0 else {
            let error = SystemCallError(code: errno)
            close(snapshot)
            return .failure(.cannotKeep(error))
        }
        return .success(snapshot)
    }

    /// Whether `fd` is a memory file that can no longer be written, grown, shrunk or unsealed.
    package static func isSealed(_ fd: Int32) -> Bool {
        let required = CLINUX_F_SEAL_SEAL | CLINUX_F_SEAL_SHRINK | CLINUX_F_SEAL_GROW | CLINUX_F_SEAL_WRITE
        let seals = fcntl(fd, CLINUX_F_GET_SEALS)
        return seals >= 0 && seals & required == required
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
