#if canImport(Glibc)
import Glibc
#endif

/// The group of the unix socket, from `--socket-group`: a numeric id as given, or a name looked up in /etc/group
/// by `GroupFile`, never through NSS.
package struct SocketGroup: Equatable, Sendable {
    package let id: gid_t

    /// A value of decimal digits is an id, whatever /etc/group says, so a numeric id always works; anything else is
    /// a name, and `groupFile` is read only then.
    package init(
        parsing value: String, groupFile: () -> Result<GroupFile, GroupFileError> = { GroupFile.read() }
    ) throws(SocketGroupError) {
        if value.isEmpty { throw .empty }
        if value.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
            guard let id = GroupFile.id(decimal: value.utf8) else { throw .idOutOfRange(value) }
            self.id = id
            return
        }
        switch groupFile() {
        case .success(let file):
            guard let id = file.id(ofGroup: value.utf8) else { throw .unknownName(value) }
            self.id = id
        case .failure(let error):
            throw .groupFileUnreadable(name: value, error)
        }
    }
}
