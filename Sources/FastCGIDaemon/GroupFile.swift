#if canImport(Glibc)
import Glibc
#endif

/// /etc/group, read the way glibc's `files` backend reads it, for `--socket-group NAME`.
///
/// `getgrnam` goes through NSS: with `group: files systemd` in nsswitch.conf, static glibc tries to load
/// libnss_systemd, and a static binary can crash there. Reading the file itself answers what `files` answers,
/// and nothing else (no LDAP, no systemd dynamic users).
package struct GroupFile: Equatable, Sendable {
    package static let defaultPath = "/etc/group"

    /// Past this, the file is refused rather than read: a real one holds a few thousand lines.
    package static let maximumSize = 16 << 20

    /// The largest id a group may have: `(gid_t)-1` tells chown to leave the group unchanged.
    package static let maximumID = gid_t.max - 1

    package let contents: [UInt8]

    package init(contents: [UInt8]) {
        self.contents = contents
    }

    /// The id of the first line that names `name`, as `files` answers. Lines it cannot use are skipped, as glibc
    /// skips them: blank lines and leading white space, `#` comments, lines with fewer than three fields or an id
    /// that is not 0 to `maximumID` in decimal digits, and NIS entries (a name that starts with `+` or `-`).
    package func id(ofGroup name: some Collection<UInt8>) -> gid_t? {
        for line in contents.split(separator: UInt8(ascii: "\n")) {
            let text = line.drop { Self.isSpace($0) }
            guard let first = text.first, first != UInt8(ascii: "#") else { continue }
            let fields = text.split(separator: UInt8(ascii: ":"), maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count >= 3, fields[0].elementsEqual(name),
                first != UInt8(ascii: "+"), first != UInt8(ascii: "-"),
                let id = Self.id(decimal: fields[2])
            else { continue }
            return id
        }
        return nil
    }

    /// Decimal digits only, unlike glibc's strtoul, which also takes signs and white space: "-1" is no group.
    package static func id(decimal digits: some Collection<UInt8>) -> gid_t? {
        guard !digits.isEmpty, digits.count <= 10 else { return nil }
        var value: UInt64 = 0
        for digit in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { return nil }
            value = value * 10 + UInt64(digit - UInt8(ascii: "0"))
        }
        return value <= UInt64(maximumID) ? gid_t(value) : nil
    }

    /// C's isspace in the C locale, which glibc uses to skip a line's leading blanks.
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || (0x09...0x0D).contains(byte)
    }

    /// The file at `path`, with plain open and read.
    package static func read(path: String = defaultPath) -> Result<GroupFile, GroupFileError> {
        let fd: Int32
        do {
            fd = try SystemCall.open(path, O_RDONLY | O_CLOEXEC)
        } catch {
            return .failure(.unreadable(path: path, code: error.code))
        }
        defer { BestEffort.close(fd) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count: Int
            do throws(SystemCallError) {
                count = try chunk.withUnsafeMutableBufferPointer { (buffer) throws(SystemCallError) in
                    try SystemCall.read(fd, buffer.baseAddress!, buffer.count)
                }
            } catch {
                return .failure(.unreadable(path: path, code: error.code))
            }
            if count == 0 { return .success(GroupFile(contents: contents)) }
            contents += chunk[..<count]
            if contents.count > maximumSize { return .failure(.tooLarge(path: path)) }
        }
    }
}
