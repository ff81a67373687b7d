import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `oauth-forward-cgi.conf` beside the CGI script (`SCRIPT_FILENAME`'s directory), for hosts whose web server
/// cannot pass variables (suEXEC clears them). Tests/HostTests/suexec.sh runs the same under real suEXEC.
@Suite struct ScriptSettingsTests {
    /// A cgi-bin directory with the settings file in it, mode 0644 unless told otherwise, and the two program files
    /// the tests name as SCRIPT_FILENAME, whose owner (the test's user) may own the settings file.
    static func cgiBin(settings: String?, mode: mode_t = 0o644) throws -> String {
        let directory = try makeScratchDirectory("cgi-bin")
        chmod(directory, 0o755)
        for program in ["oauth-forward.cgi", "x.cgi"] {
            try "".write(toFile: directory + "/" + program, atomically: false, encoding: .utf8)
        }
        if let settings {
            let path = directory + "/oauth-forward-cgi.conf"
            try settings.write(toFile: path, atomically: false, encoding: .utf8)
            chmod(path, mode)
        }
        return directory
    }

    static func request(
        in directory: String, query: [UInt8] = bytes("code=a%2Bb&state=x"), target: String? = nil,
        extra: [(String, [UInt8])] = []
    ) throws -> Finished {
        try ChildProcess.run(
            Binary.path,
            environment: CGIModeTests.cgiEnvironment(
                query: query, extra: [("SCRIPT_FILENAME", bytes(directory + "/oauth-forward.cgi"))] + extra,
                target: target))
    }

    @Test func variablesTheEnvironmentLacksComeFromTheFile() throws {
        let directory = try Self.cgiBin(
            settings: "# shared hosting\nOAUTH_FORWARD_TARGET=sandbox-eu\nOAUTH_FORWARD_PROVIDERS=oura,fitbit\n")
        let query = bytes("code=a%2Bb%3D&state=") + [0xFF]
        let answer = try Self.request(in: directory, query: query)
        #expect(
            answer.stdout
                == Daemon.redirect(to: bytes("https://api.sandbox.eu.junction.com/v2/link/connect/oura?") + query))
        #expect(answer.stderrText.contains("status=307 target=sandbox-eu"))
        // The file's allowlist applies too.
        let refused = try ChildProcess.run(
            Binary.path,
            environment: CGIModeTests.cgiEnvironment(
                path: "/garmin", query: [], extra: [("SCRIPT_FILENAME", bytes(directory + "/x.cgi"))], target: nil))
        #expect(refused.stdoutText.hasPrefix("Status: 404 Not Found\r\n"))
    }

    /// Variable by variable: the environment's target wins, the file's allowlist still applies.
    @Test func theEnvironmentWinsVariableByVariable() throws {
        let directory = try Self.cgiBin(settings: "OAUTH_FORWARD_TARGET=sandbox-eu\nOAUTH_FORWARD_PROVIDERS=fitbit\n")
        let answer = try Self.request(in: directory, target: "production-us")
        #expect(answer.stdoutText.hasPrefix("Status: 404 Not Found\r\n"), "\(answer.stdoutText)")
        let fitbit = try ChildProcess.run(
            Binary.path,
            environment: CGIModeTests.cgiEnvironment(
                path: "/fitbit", query: bytes("c=1"), extra: [("SCRIPT_FILENAME", bytes(directory + "/x.cgi"))],
                target: "production-us"))
        #expect(fitbit.stdout == Daemon.redirect(to: bytes("https://api.us.junction.com/v2/link/connect/fitbit?c=1")))
    }

    /// Without the file, the 500 for an unset target names both places to set it.
    @Test func withoutTheFileTheErrorNamesBothPlaces() throws {
        let answer = try Self.request(in: try Self.cgiBin(settings: nil))
        #expect(answer.stdoutText.hasPrefix("Status: 500 Internal Server Error\r\n"))
        #expect(answer.stderrText.contains("OAUTH_FORWARD_TARGET is not set: set it where the web server passes"))
        #expect(answer.stderrText.contains("(SetEnv, fastcgi_param)"))
        #expect(answer.stderrText.contains("in oauth-forward-cgi.conf beside the program"))
    }

    /// A file someone else could change is refused as suEXEC refuses such a script: 500, and the log says why.
    @Test(arguments: [
        (mode_t(0o664), "is writable by its group; make it writable by its owner alone (chmod 644)"),
        (mode_t(0o646), "is writable by anyone; make it writable by its owner alone (chmod 644)"),
    ])
    func aFileOthersCanChangeIsRefused(mode: mode_t, reason: String) throws {
        let directory = try Self.cgiBin(settings: "OAUTH_FORWARD_TARGET=sandbox-eu\n", mode: mode)
        let answer = try Self.request(in: directory)
        #expect(answer.stdoutText.hasPrefix("Status: 500 Internal Server Error\r\n"))
        #expect(answer.stderrText.contains("reason=\"\(directory)/oauth-forward-cgi.conf \(reason)\""))
    }

    /// A symbolic link is never followed, wherever it points: it could name any file the program can read.
    @Test func aSymbolicLinkIsRefused() throws {
        let directory = try Self.cgiBin(settings: nil)
        let real = directory + "/real.conf"
        try "OAUTH_FORWARD_TARGET=sandbox-eu\n".write(toFile: real, atomically: false, encoding: .utf8)
        #expect(symlink(real, directory + "/oauth-forward-cgi.conf") == 0)
        let answer = try Self.request(in: directory)
        #expect(answer.stdoutText.hasPrefix("Status: 500 Internal Server Error\r\n"))
        #expect(answer.stderrText.contains("oauth-forward-cgi.conf is a symbolic link, which is never followed"))
    }

    /// Without suEXEC the program runs as the web server's user, as every other site's scripts on the host do: a
    /// file is trusted only when the program file's owner (or root) owns it. Here the program is root's (a link to
    /// /bin/true) and the file the test user's; run as root, the file is nobody's.
    @Test func aFileTheProgramsOwnerDoesNotOwnIsRefused() throws {
        let directory = try Self.cgiBin(settings: "OAUTH_FORWARD_TARGET=sandbox-eu\n")
        let settings = directory + "/oauth-forward-cgi.conf"
        try FileManager.default.removeItem(atPath: directory + "/oauth-forward.cgi")
        #expect(symlink("/bin/true", directory + "/oauth-forward.cgi") == 0)
        let fileOwner = geteuid() == 0 ? uid_t(65534) : geteuid()
        if geteuid() == 0 { #expect(chown(settings, fileOwner, gid_t(65534)) == 0) }
        let answer = try Self.request(in: directory)
        #expect(answer.stdoutText.hasPrefix("Status: 500 Internal Server Error\r\n"))
        #expect(
            answer.stderrText.contains(
                "\(settings) belongs to uid \(fileOwner), while the program runs as uid \(geteuid()) and its file "
                    + "belongs to uid 0; it must belong to the program file's owner or to root"),
            "\(answer.stderrText)")
    }

    /// A directory others may write to lets them put a file there: refused, unless it is sticky and the program's
    /// owner's, as /tmp is root's.
    @Test func aDirectoryOthersCanWriteToIsRefusedUnlessSticky() throws {
        let directory = try Self.cgiBin(settings: "OAUTH_FORWARD_TARGET=sandbox-eu\n")
        chmod(directory, 0o777)
        let refused = try Self.request(in: directory)
        #expect(refused.stdoutText.hasPrefix("Status: 500 Internal Server Error\r\n"))
        #expect(refused.stderrText.contains("oauth-forward-cgi.conf is in a directory that others can write to"))
        chmod(directory, 0o1777)
        let sticky = try Self.request(in: directory)
        #expect(sticky.stdoutText.hasPrefix("Location: https://api.sandbox.eu.junction.com/"), "\(sticky.stderrText)")
        chmod(directory, 0o755)
    }

    @Test func aMistakeInTheFileIsRefusedWithItsLine() throws {
        let directory = try Self.cgiBin(settings: "OAUTH_FORWARD_TARGET=sandbox-eu\nOAUTH_FORWARD_TARGT=x\n")
        let answer = try Self.request(in: directory)
        #expect(answer.stdoutText.hasPrefix("Status: 500 Internal Server Error\r\n"))
        #expect(answer.stderrText.contains("line 2: OAUTH_FORWARD_TARGT is not a setting this program reads"))
    }

    /// Not a regular file: a directory, or a FIFO that would block a plain open until a writer came.
    @Test func onlyARegularFileIsRead() throws {
        let directory = try Self.cgiBin(settings: nil)
        #expect(mkfifo(directory + "/oauth-forward-cgi.conf", 0o644) == 0)
        let answer = try Self.request(in: directory)
        #expect(answer.stderrText.contains("oauth-forward-cgi.conf is not a regular file"), "\(answer.stderrText)")
    }

    /// `check`, run as the shared-hosting user runs it over SSH, shows the file's values and where they came from.
    @Test func checkShowsTheFileBesideTheProgram() throws {
        let directory = try Self.cgiBin(settings: "OAUTH_FORWARD_TARGET=sandbox-eu\n")
        let binary = directory + "/oauth-forward.cgi"
        let copied = try ChildProcess.run("/usr/bin/install", ["-m", "755", Binary.path, binary], environment: [])
        try #require(copied.status == 0)
        let finished = try ChildProcess.run(binary, ["check", "/oura?code=1"], environment: [])
        #expect(finished.status == 0)
        #expect(
            finished.stdoutText.hasPrefix(
                "OAUTH_FORWARD_TARGET: sandbox-eu (file \(directory)/oauth-forward-cgi.conf)\n"),
            "\(finished.stdoutText)")
        chmod(directory + "/oauth-forward-cgi.conf", 0o666)
        let refused = try ChildProcess.run(binary, ["check", "/oura?code=1"], environment: [])
        #expect(refused.status == 1)
        #expect(refused.stdoutText.contains("configuration error: \(directory)/oauth-forward-cgi.conf is writable"))
    }
}
