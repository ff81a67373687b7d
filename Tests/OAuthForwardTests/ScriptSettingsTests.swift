import OAuthForward
import Testing

@Suite struct ScriptSettingsRuleTests {
    @Test func theFileSitsBesideTheScript() {
        #expect(
            ScriptSettings.path(besideScript: Array("/home/a/public_html/cgi-bin/oauth-forward.cgi".utf8))
                == Array("/home/a/public_html/cgi-bin/oauth-forward-cgi.conf".utf8))
        #expect(ScriptSettings.path(besideScript: Array("/x.cgi".utf8)) == Array("/oauth-forward-cgi.conf".utf8))
        #expect(ScriptSettings.path(besideScript: Array("x.cgi".utf8)) == nil)
        #expect(ScriptSettings.path(besideScript: []) == nil)
    }

    /// As suEXEC trusts a script: a regular file, writable by its owner alone, owned by the user or root.
    @Test(arguments: [
        (UInt32(0o100644), UInt32(1000), nil as SettingsFileProblem?), (0o100600, 1000, nil), (0o100644, 0, nil),
        (0o100444, 1000, nil), (0o100664, 1000, .writableByGroup), (0o100646, 1000, .writableByOthers),
        (0o100666, 1000, .writableByOthers), (0o100644, 1001, .ownedByAnotherUser(owner: 1001, user: 1000)),
        (0o040755, 1000, .notARegularFile), (0o010644, 1000, .notARegularFile), (0o120777, 1000, .notARegularFile),
    ])
    func onlyAFileNobodyElseCanChangeIsTrusted(mode: UInt32, owner: UInt32, expected: SettingsFileProblem?) {
        #expect(ScriptSettings.problem(mode: mode, owner: owner, runningAs: 1000, programOwner: { 1002 }) == expected)
    }

    /// Without suEXEC the program runs as the web server's user, and the customer owns the program and the file:
    /// the program's owner is trusted, and asked for only when needed.
    @Test func theProgramsOwnerIsTrustedToo() {
        var asked = 0
        let owner = { () -> UInt32? in
            asked += 1
            return 1001
        }
        #expect(ScriptSettings.problem(mode: 0o100644, owner: 1001, runningAs: 33, programOwner: owner) == nil)
        #expect(asked == 1)
        #expect(ScriptSettings.problem(mode: 0o100644, owner: 33, runningAs: 33, programOwner: owner) == nil)
        #expect(asked == 1)
        #expect(
            ScriptSettings.problem(mode: 0o100644, owner: 1005, runningAs: 33, programOwner: owner)
                == .ownedByAnotherUser(owner: 1005, user: 33))
        #expect(
            ScriptSettings.problem(mode: 0o100644, owner: 1005, runningAs: 33, programOwner: { nil })
                == .ownedByAnotherUser(owner: 1005, user: 33))
        #expect(
            ScriptSettings.problem(mode: 0o100664, owner: 1001, runningAs: 33, programOwner: owner) == .writableByGroup)
    }
}
