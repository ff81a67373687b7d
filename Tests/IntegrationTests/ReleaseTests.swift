import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What scripts/build-release ships: the static binary and the Debian package in dist/.
@Suite(.serialized) struct ReleaseTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let binary = repository + "/dist/oauth-forward-cgi"

    static func requireRelease() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: binary), "\(binary) is missing: run ./scripts/build-release")
    }

    static func package() throws -> String {
        let files = try FileManager.default.contentsOfDirectory(atPath: repository + "/dist")
        let deb = try #require(
            files.first { $0.hasPrefix("oauth-forward-cgi_") && $0.hasSuffix("_amd64.deb") },
            "no .deb in dist/: run ./scripts/build-release")
        return repository + "/dist/" + deb
    }

    static let cgiRequest: [(String, [UInt8])] = [
        ("GATEWAY_INTERFACE", bytes("CGI/1.1")), ("REQUEST_METHOD", bytes("GET")), ("PATH_INFO", bytes("/oura")),
        ("QUERY_STRING", bytes("code=a%2Bb&state=") + [0xFF, 0x80]), ("OAUTH_FORWARD_TARGET", bytes("production-eu")),
    ]
    static let expectedAnswer =
        bytes("Status: 307 Temporary Redirect\r\nLocation: https://api.eu.junction.com/v2/link/connect/oura?")
        + bytes("code=a%2Bb&state=") + [0xFF, 0x80]
        + bytes("\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nContent-Length: 0\r\n\r\n")

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
        let twin = Self.repository + "/.build-static/release/oauth-forward-cgi"
        let listed = Set(
            try String(contentsOfFile: Self.repository + "/packaging/startup-order.txt", encoding: .utf8)
                .split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init))
        let nm = try ChildProcess.run(
            "/usr/bin/nm", ["-n", "--defined-only", twin], environment: [("PATH", bytes("/usr/bin:/bin"))])
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

    /// A shared host has no Swift and no libfcgi: an empty root with nothing but the binary stands in for it.
    @Test func answersACGIRequestInAnEmptyChroot() throws {
        try Self.requireRelease()
        try #require(getuid() == 0, "chroot needs root")
        let root = try makeScratchDirectory("chroot")
        let copy = try ChildProcess.run(
            "/usr/bin/install", ["-m", "755", Self.binary, root + "/oauth-forward-cgi"], environment: [])
        try #require(copy.status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["oauth-forward-cgi"])
        let answer = try ChildProcess.run(
            "/usr/sbin/chroot", [root, "/oauth-forward-cgi"], environment: Self.cgiRequest)
        #expect(answer.status == 0, "\(answer.stderrText)")
        #expect(answer.stdout == Self.expectedAnswer)
        #expect(answer.stderrText.hasPrefix("app=oauth-forward-cgi method=GET provider=oura status=307"))
    }

    /// Static glibc cannot look names up through NSS: a name fails with a message that says what works instead.
    /// The chroot has /proc (a real host has), which the static runtime needs to read the command line.
    @Test func nameLookupsFailClearlyInAChrootWithoutNSS() throws {
        try Self.requireRelease()
        try #require(getuid() == 0, "chroot needs root")
        let root = try makeScratchDirectory("chroot-nss")
        _ = try ChildProcess.run(
            "/usr/bin/install", ["-m", "755", Self.binary, root + "/oauth-forward-cgi"], environment: [])
        mkdir(root + "/proc", 0o555)
        let mounted = try ChildProcess.run("/usr/bin/mount", ["-t", "proc", "proc", root + "/proc"], environment: [])
        try #require(mounted.status == 0, "mount /proc: \(mounted.stderrText)")
        defer { _ = try? ChildProcess.run("/usr/bin/umount", [root + "/proc"], environment: []) }
        let group = try ChildProcess.run(
            "/usr/sbin/chroot",
            [
                root, "/oauth-forward-cgi", "serve", "--listen", "/fcgi.sock", "--socket-group",
                "www-data", "--target", "sandbox-us",
            ], environment: [])
        #expect(group.status != 0)
        #expect(group.stderrText.contains("--socket-group www-data is not a known group; a numeric id always works"))
        #expect(!FileManager.default.fileExists(atPath: root + "/fcgi.sock"))
        let host = try ChildProcess.run(
            "/usr/sbin/chroot", [root, "/oauth-forward-cgi", "serve", "--listen", "localhost:9000"], environment: [])
        #expect(host.status != 0)
        #expect(host.stderrText.contains("numeric addresses only"))
    }

    /// Without /proc the static runtime sees no command line: flags cannot work, and the program says why.
    @Test func missingProcIsNamedWhenArgumentsAreNeeded() throws {
        try Self.requireRelease()
        try #require(getuid() == 0, "chroot needs root")
        let root = try makeScratchDirectory("chroot-noproc")
        _ = try ChildProcess.run(
            "/usr/bin/install", ["-m", "755", Self.binary, root + "/oauth-forward-cgi"], environment: [])
        let finished = try ChildProcess.run(
            "/usr/sbin/chroot", [root, "/oauth-forward-cgi", "serve", "--listen", "/fcgi.sock"], environment: [])
        #expect(finished.status == 2)
        #expect(finished.stderrText.contains("/proc is not mounted"))
    }

    @Test func debianPackageInstallsAndRemoves() throws {
        try #require(getuid() == 0, "dpkg needs root")
        let deb = try Self.package()
        let environment: [(String, [UInt8])] = [("PATH", bytes("/usr/sbin:/usr/bin:/sbin:/bin"))]
        let info = try ChildProcess.run("/usr/bin/dpkg-deb", ["--info", deb], environment: environment)
        #expect(info.stdoutText.contains("Package: oauth-forward-cgi"))
        #expect(info.stdoutText.contains("Architecture: amd64"))

        let install = try ChildProcess.run("/usr/bin/dpkg", ["-i", deb], environment: environment, timeout: 120)
        #expect(install.status == 0, "\(install.stderrText)")
        let installed = [
            "/usr/bin/oauth-forward-cgi", "/lib/systemd/system/oauth-forward-cgi.service",
            "/lib/systemd/system/oauth-forward-cgi.socket", "/etc/default/oauth-forward-cgi",
            "/usr/share/man/man1/oauth-forward-cgi.1.gz", "/usr/share/doc/oauth-forward-cgi/nginx.conf.example",
            "/usr/share/doc/oauth-forward-cgi/apache.conf.example", "/usr/share/doc/oauth-forward-cgi/README.md",
        ]
        for path in installed {
            #expect(FileManager.default.fileExists(atPath: path), "\(path) was not installed")
        }
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: "/usr/lib/cgi-bin/oauth-forward-cgi")
                == "../../bin/oauth-forward-cgi")
        let answer = try ChildProcess.run("/usr/lib/cgi-bin/oauth-forward-cgi", environment: Self.cgiRequest)
        #expect(answer.stdout == Self.expectedAnswer)
        let man = try ChildProcess.run(
            "/bin/sh", ["-c", "zcat /usr/share/man/man1/oauth-forward-cgi.1.gz"], environment: environment)
        #expect(man.stdoutText.contains(".TH OAUTH-FORWARD-CGI"))
        #expect(man.stdoutText.contains("serve"))

        let remove = try ChildProcess.run("/usr/bin/dpkg", ["-r", "oauth-forward-cgi"], environment: environment)
        #expect(remove.status == 0, "\(remove.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: "/usr/bin/oauth-forward-cgi"))
        #expect(!FileManager.default.fileExists(atPath: "/usr/lib/cgi-bin/oauth-forward-cgi"))
        // A conffile stays until the package is purged.
        #expect(FileManager.default.fileExists(atPath: "/etc/default/oauth-forward-cgi"))
        let purge = try ChildProcess.run("/usr/bin/dpkg", ["-P", "oauth-forward-cgi"], environment: environment)
        #expect(purge.status == 0, "\(purge.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: "/etc/default/oauth-forward-cgi"))
    }
}
