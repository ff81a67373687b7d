import Testing

@testable import FastCGIDaemon

#if canImport(Glibc)
import Glibc
#endif

@Suite struct GroupFileTests {
    static let debian = GroupFile(
        contents: Array(
            """
            root:x:0:
            daemon:x:1:
            www-data:x:33:
            sudo:x:27:alice,bob
            nogroup:x:65534:

            """.utf8))

    @Test(arguments: [("root", 0), ("www-data", 33), ("sudo", 27), ("nogroup", 65534)])
    func namesTheirIDs(name: String, id: gid_t) {
        #expect(Self.debian.id(ofGroup: name.utf8) == id)
    }

    /// Only a whole name matches, byte for byte.
    @Test(arguments: ["www", "www-data2", "WWW-DATA", "x", "33", "", "alice", "www-data:x"])
    func otherNamesAreUnknown(name: String) {
        #expect(Self.debian.id(ofGroup: name.utf8) == nil)
    }

    /// glibc's files backend takes the first line that names a group; so does this.
    @Test func theFirstOfTwoLinesWins() {
        let file = GroupFile(contents: Array("staff:x:50:\nstaff:x:51:\n".utf8))
        #expect(file.id(ofGroup: "staff".utf8) == 50)
    }

    /// What glibc skips is skipped, and the lookup goes on to the next line.
    @Test(arguments: [
        "\n\n   \n",  // blank lines
        "web\n", "web:x\n", "web:x:\n", "web::\n",  // too few fields, or no id
        "web:x:abc:\n", "web:x:-1:\n", "web:x:+7:\n", "web:x: 7:\n", "web:x:7 :\n", "web:x:0x10:\n",  // not digits
        // Past the largest id, and past UInt64.
        "web:x:4294967295:\n", "web:x:4294967296:\n", "web:x:99999999999:\n", "web:x:18446744073709551617:\n",
        "web:x:7\r\n",  // a CR ends no field
    ])
    func unusableLinesAreSkipped(lines: String) {
        let file = GroupFile(contents: Array((lines + "web:x:42:\n").utf8))
        #expect(file.id(ofGroup: "web".utf8) == 42)
    }

    /// A comment, and NIS's `+` and `-` entries (for `group: compat`), name no group, even the name they spell.
    @Test(arguments: [("#web:x:1:", "#web"), ("  \t#web:x:1:", "#web"), ("+web:x:1:", "+web"), ("-web:x:1:", "-web")])
    func commentsAndNISEntriesNameNoGroup(line: String, name: String) {
        #expect(GroupFile(contents: Array(line.utf8)).id(ofGroup: name.utf8) == nil)
    }

    @Test(arguments: [
        ("web:x:7", 7),  // no members field, no final newline
        ("   web:x:7:", 7),  // leading blanks, as glibc skips them
        ("web::7:", 7),  // no password field
        ("web:x:0007:a,b", 7),  // leading zeros
        ("web:x:4294967294:", 4_294_967_294),  // the largest id
        ("web:x:7:a:b", 7),  // more colons in the members
    ])
    func usableLines(line: String, id: gid_t) {
        #expect(GroupFile(contents: Array(line.utf8)).id(ofGroup: "web".utf8) == id)
    }

    /// A name that is not UTF-8 is compared as bytes, never repaired.
    @Test func namesAreBytes() {
        let file = GroupFile(contents: [0x67, 0xFF] + Array(":x:9:\n".utf8))
        #expect(file.id(ofGroup: [0x67, 0xFF]) == 9)
        #expect(file.id(ofGroup: Array("g\u{FFFD}".utf8)) == nil)
    }

    @Test func readsAFileAndSaysWhyItCannot() throws {
        let path = "/tmp/oafc-group-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        defer { unlink(path) }
        let text = Array("www-data:x:33:\n".utf8)
        #expect(write(fd, text, text.count) == text.count)
        close(fd)
        #expect(try GroupFile.read(path: path).get().id(ofGroup: "www-data".utf8) == 33)

        #expect(GroupFile.read(path: path + ".absent") == .failure(.unreadable(path: path + ".absent", code: ENOENT)))
        #expect(GroupFile.read(path: "/tmp") == .failure(.unreadable(path: "/tmp", code: EISDIR)))
        #expect(
            GroupFileError.unreadable(path: "/etc/group", code: ENOENT).message
                == "cannot read /etc/group: No such file or directory")
    }
}
