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

    /// A regular file, writable by its owner alone, owned by root or the program file's owner (1002 here).
    @Test(arguments: [
        (UInt32(0o100644), UInt32(1002), nil as SettingsFileProblem?), (0o100600, 1002, nil), (0o100644, 0, nil),
        (0o100444, 1002, nil), (0o100664, 1002, .writableByGroup), (0o100646, 1002, .writableByOthers),
        (0o100666, 1002, .writableByOthers),
        (0o100644, 1001, .ownedByAnotherUser(owner: 1001, user: 1000, programOwner: 1002)),
        (0o040755, 1002, .notARegularFile), (0o010644, 1002, .notARegularFile), (0o120777, 1002, .notARegularFile),
    ])
    func onlyAFileNobodyElseCanChangeIsTrusted(mode: UInt32, owner: UInt32, expected: SettingsFileProblem?) {
        #expect(ScriptSettings.problem(mode: mode, owner: owner, runningAs: 1000, programOwner: { 1002 }) == expected)
    }

    /// Without suEXEC the program runs as the web server's user, as every other site's scripts do: a file that user
    /// owns is not trusted, while the program's owner's is. Under suEXEC the two are the same user.
    @Test func theProgramsOwnerIsTrustedAndTheRunningUserAsSuchIsNot() {
        var asked = 0
        let owner = { () -> UInt32? in
            asked += 1
            return 1001
        }
        #expect(ScriptSettings.problem(mode: 0o100644, owner: 1001, runningAs: 33, programOwner: owner) == nil)
        #expect(asked == 1)
        #expect(ScriptSettings.problem(mode: 0o100644, owner: 0, runningAs: 33, programOwner: owner) == nil)
        #expect(asked == 1)
        #expect(
            ScriptSettings.problem(mode: 0o100644, owner: 33, runningAs: 33, programOwner: owner)
                == .ownedByAnotherUser(owner: 33, user: 33, programOwner: 1001))
        #expect(ScriptSettings.problem(mode: 0o100644, owner: 1001, runningAs: 1001, programOwner: owner) == nil)
        #expect(
            ScriptSettings.problem(mode: 0o100644, owner: 1005, runningAs: 33, programOwner: { nil })
                == .ownedByAnotherUser(owner: 1005, user: 33, programOwner: nil))
        #expect(
            ScriptSettings.problem(mode: 0o100664, owner: 1001, runningAs: 33, programOwner: owner) == .writableByGroup)
    }

    /// The directory must not let anyone else put a file in it: not group- or world-writable, unless it is sticky
    /// and belongs to root or the program's owner (1002 here).
    @Test(arguments: [
        (UInt32(0o040755), UInt32(1002), nil as SettingsFileProblem?), (0o040700, 33, nil), (0o040555, 1002, nil),
        (0o040775, 1002, .directoryWritableByOthers), (0o040757, 1002, .directoryWritableByOthers),
        (0o040777, 0, .directoryWritableByOthers), (0o041777, 0, nil), (0o041777, 1002, nil),
        (0o041777, 33, .directoryWritableByOthers), (0o041775, 1002, nil), (0o040770, 1002, .directoryWritableByOthers),
    ])
    func onlyADirectoryNobodyElseCanWriteToIsTrusted(mode: UInt32, owner: UInt32, expected: SettingsFileProblem?) {
        #expect(ScriptSettings.directoryProblem(mode: mode, owner: owner, programOwner: { 1002 }) == expected)
    }

    @Test func everyProblemSaysWhatToDo() {
        #expect(
            SettingsFileProblem.ownedByAnotherUser(owner: 33, user: 33, programOwner: 1001).problem
                == "belongs to uid 33, while the program runs as uid 33 and its file belongs to uid 1001; it must "
                + "belong to the program file's owner or to root")
        #expect(
            SettingsFileProblem.ownedByAnotherUser(owner: 33, user: 33, programOwner: nil).problem
                == "belongs to uid 33, while the program runs as uid 33 and its file (SCRIPT_FILENAME) is not found; "
                + "it must belong to the program file's owner or to root")
        #expect(SettingsFileProblem.symbolicLink.problem.contains("symbolic link"))
        #expect(SettingsFileProblem.directoryWritableByOthers.problem.contains("chmod 755"))
    }
}
