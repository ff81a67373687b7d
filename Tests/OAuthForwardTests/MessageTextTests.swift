import OAuthForward
import Testing

/// Values from the environment or a file reach error messages with their control bytes escaped, as log lines
/// write them.
@Suite struct MessageTextTests {
    @Test func controlBytesAreWrittenAsHexEscapes() {
        #expect(MessageText.escaped("10.0.0.5\r\nforged=1") == "10.0.0.5\\x0d\\x0aforged=1")
        #expect(MessageText.escaped("a\u{0}b\u{1b}[31m\u{7f}") == "a\\x00b\\x1b[31m\\x7f")
        #expect(MessageText.escaped("plain \"text\" é ü") == "plain \"text\" é ü")
        #expect(MessageText.escaped("") == "")
    }

    @Test func aSettingsFileNameIsEscaped() {
        let error = SettingsFileError.unknownName(line: 2, name: "OAUTH_FORWARD_TARGT\r", known: ["A"])
        #expect(error.message == "line 2: OAUTH_FORWARD_TARGT\\x0d is not a setting this program reads; it reads A")
        #expect(
            SettingsFileError.duplicate(line: 3, name: "X\u{1b}").message == "line 3: X\\x1b is set a second time")
        #expect(
            ConfigurationError.settingsFile(path: "/srv/\n/oauth-forward-cgi.conf", .notARegularFile).message
                == "/srv/\\x0a/oauth-forward-cgi.conf is not a regular file")
    }
}
