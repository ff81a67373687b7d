import Testing

@testable import FastCGIDaemon

#if canImport(Glibc)
import Glibc
#endif

@Suite struct SocketGroupTests {
    static func unreachable() -> Result<GroupFile, GroupFileError> {
        Issue.record("a numeric id read /etc/group")
        return .success(GroupFile(contents: []))
    }

    /// Digits are an id as they stand, without reading /etc/group, which may not exist where the daemon runs.
    @Test(arguments: [("0", 0), ("33", 33), ("0033", 33), ("4294967294", 4_294_967_294)])
    func numericIDsNeedNoGroupFile(value: String, id: gid_t) throws {
        #expect(try SocketGroup(parsing: value, groupFile: Self.unreachable).id == id)
    }

    /// `(gid_t)-1` would tell chown to leave the group as it is: the socket would keep root's group, silently.
    @Test(arguments: ["4294967295", "4294967296", "99999999999"])
    func idsPastTheLargestAreRefused(value: String) {
        #expect(throws: SocketGroupError.idOutOfRange(value)) {
            try SocketGroup(parsing: value, groupFile: Self.unreachable)
        }
    }

    @Test func namesComeFromTheGroupFile() throws {
        #expect(try SocketGroup(parsing: "www-data", groupFile: { .success(GroupFileTests.debian) }).id == 33)
        #expect(throws: SocketGroupError.unknownName("web")) {
            try SocketGroup(parsing: "web", groupFile: { .success(GroupFileTests.debian) })
        }
        // A sign makes it a name, and no group is named "-1".
        #expect(throws: SocketGroupError.unknownName("-1")) {
            try SocketGroup(parsing: "-1", groupFile: { .success(GroupFileTests.debian) })
        }
        #expect(throws: SocketGroupError.empty) { try SocketGroup(parsing: "", groupFile: Self.unreachable) }
    }

    /// Every message names the flag; a name that fails says a numeric id always works.
    @Test func messagesSayWhatWorksInstead() {
        let unreadable = GroupFileError.unreadable(path: "/etc/group", code: ENOENT)
        #expect(
            SocketGroupError.groupFileUnreadable(name: "www-data", unreadable).message
                == "--socket-group www-data is not a known group: cannot read /etc/group: No such file or directory; "
                + "a numeric id always works")
        #expect(
            SocketGroupError.unknownName("web").message.hasPrefix("--socket-group web is not a known group: "))
        #expect(SocketGroupError.unknownName("web").message.hasSuffix("; a numeric id always works"))
        #expect(SocketGroupError.idOutOfRange("4294967295").message.contains("0 to 4294967294"))
        #expect(SocketGroupError.empty.message.hasPrefix("--socket-group is empty"))
    }
}
