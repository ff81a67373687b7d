import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What scripts/build-release ships, as far as it can be read without root: the static binary in dist/. Running
/// it in a chroot needs root (Tests/HostTests/release.sh), and so do installing, upgrading and purging the .deb
/// (Tests/HostTests/package.sh, run by scripts/test-package).
@Suite(.serialized) struct ReleaseTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let binary = repository + "/dist/oauth-forward-cgi"
    /// The release binary before `strip`, with its symbol table.
    static let twin = repository + "/.build-static/release/oauth-forward-cgi"

    static func requireRelease() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: binary), "\(binary) is missing: run ./scripts/build-release")
    }

    @Test func binaryIsStatic() throws {
        try Self.requireRelease()
        let ldd = try ChildProcess.run("/usr/bin/ldd", [Self.binary], environment: [("PATH", bytes("/usr/bin:/bin"))])
        #expect((ldd.stdoutText + ldd.stderrText).contains("not a dynamic executable"))
        var header = [UInt8](repeating: 0, count: 64)
        let file = Descriptor(adopting: open(Self.binary, O_RDONLY | O_CLOEXEC))
        _ = read(file.raw, &header, header.count)
        // No PT_INTERP: nothing for a dynamic loader to do. The ELF type is ET_EXEC (2) or static-pie ET_DYN (3).
        #expect(header.prefix(4) == [0x7F, 0x45, 0x4C, 0x46])
    }

    /// The functions a CGI request runs (packaging/startup-order.txt) are linked together, so that a request, a
    /// whole process start, touches few pages of the binary. Read from the release binary's unstripped twin.
    @Test func startupFunctionsAreLinkedTogether() throws {
        try Self.requireRelease()
        let listed = Set(
            try String(contentsOfFile: Self.repository + "/packaging/startup-order.txt", encoding: .utf8)
                .split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init))
        let nm = try ChildProcess.run(
            "/usr/bin/nm", ["-n", "--defined-only", Self.twin], environment: [("PATH", bytes("/usr/bin:/bin"))])
        var code: [UInt64] = []
        var startup: [UInt64] = []
        for line in nm.stdoutText.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, "tTwW".contains(fields[1]), let address = UInt64(fields[0], radix: 16) else {
                continue
            }
            code.append(address)
            if listed.contains(String(fields[2])) { startup.append(address) }
        }
        // Most of the list names functions of this build; far fewer means it is stale: run scripts/startup-order.
        #expect(startup.count * 10 >= listed.count * 8, "\(startup.count) of \(listed.count) listed functions found")
        let codeSpan = try #require(code.max()) - (try #require(code.min()))
        let startupSpan = try #require(startup.max()) - (try #require(startup.min()))
        // Unordered, they lie all over the code (the span is nearly all of it); ordered, about a third, the rest of
        // that third being the standard library's one big section, which the linker cannot split.
        #expect(startupSpan * 2 < codeSpan, "start-up code spans \(startupSpan) of \(codeSpan) bytes")
    }

    /// glibc's lookups through NSS (nsswitch.conf), which static glibc may answer by loading a shared module, and
    /// a static binary can crash there: those glibc's static link warnings name, less dlopen itself.
    static let nameServiceLookups = [
        "getpwnam", "getpwnam_r", "getpwuid", "getpwuid_r", "getpwent", "getpwent_r", "getpw",
        "getgrnam", "getgrnam_r", "getgrgid", "getgrgid_r", "getgrent", "getgrent_r", "getgrouplist", "initgroups",
        "getspnam", "getspnam_r", "getsgnam", "getsgnam_r",
        "getaddrinfo", "getnameinfo", "gethostbyname", "gethostbyname_r", "gethostbyname2", "gethostbyname2_r",
        "gethostbyaddr", "gethostbyaddr_r", "gethostent", "getservbyname", "getservbyport", "getprotobyname",
        "getprotobynumber", "getnetbyname", "getnetbyaddr", "getrpcbyname", "getrpcbynumber", "getaliasbyname",
    ]

    /// No NSS lookup is in the release binary, so none can run (docs/PACKAGING.md): with the linker's garbage
    /// collection, a function that is in it is one some live code calls. scripts/build-release wraps the lookups
    /// that dependencies call in code the program never runs; a wrap without its stub would leave a weak undefined
    /// `__wrap_` symbol, a call to address 0.
    @Test func noNameServiceLookupIsLinkedIn() throws {
        try Self.requireRelease()
        let nm = try ChildProcess.run("/usr/bin/nm", [Self.twin], environment: [("PATH", bytes("/usr/bin:/bin"))])
        try #require(nm.status == 0, "\(nm.stderrText)")
        let lookups = Set(Self.nameServiceLookups)
        var linked: [String] = []
        var unresolvedWraps: [String] = []
        for line in nm.stdoutText.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let name = fields.last.map(String.init), fields.count >= 2 else { continue }
            let type = fields[fields.count - 2]
            if "TtWwi".contains(type), fields.count == 3, lookups.contains(name) { linked.append(name) }
            if "Uw".contains(type), fields.count == 2, name.hasPrefix("__wrap_") { unresolvedWraps.append(name) }
        }
        #expect(linked.isEmpty, "NSS lookups in the binary: \(linked)")
        #expect(unresolvedWraps.isEmpty, "wrapped without a stub: \(unresolvedWraps)")
    }
}
