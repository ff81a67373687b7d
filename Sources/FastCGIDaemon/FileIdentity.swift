#if canImport(Glibc)
import Glibc
#endif

/// A file as the kernel knows it, `st_dev` and `st_ino`: what stays the same while names and descriptors change.
package struct FileIdentity: Equatable, Sendable, CustomStringConvertible {
    package var device: UInt64
    package var inode: UInt64

    package init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    /// The file open as `fd`; nil if `fd` is not open.
    package init?(descriptor fd: Int32) {
        guard let status = try? SystemCall.fstat(fd) else { return nil }
        self.init(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
    }

    /// The file `path` names itself, not what a symbolic link there points to; nil if there is none.
    package init?(path: String) {
        guard let identity = try? FileIdentity(at: path) else { return nil }
        self = identity
    }

    /// The file `path` names itself, or why it cannot be known.
    init(at path: String) throws(SystemCallError) {
        let status = try SystemCall.lstat(path)
        self.init(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
    }

    /// `2049:131075`
    package var description: String { "\(device):\(inode)" }

    /// Reads what `description` wrote; nil for anything else.
    package init?(_ text: Substring) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.allSatisfy(\.isWholeNumber) }),
            let device = UInt64(parts[0]), let inode = UInt64(parts[1])
        else { return nil }
        self.init(device: device, inode: inode)
    }
}
