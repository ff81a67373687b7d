import OAuthForward
import Testing

@Suite struct SettingsFileTests {
    @Test func readsTheShapesADefaultsFileHas() throws {
        let text = """
            # a comment
            ; another

              OAUTH_FORWARD_TARGET = "production-us"  \r
            OAUTH_FORWARD_PROVIDERS='oura,fitbit'
            OAUTH_FORWARD_FALLBACK=https://app.example.com/cb/{provider}?a=b=c
            OAUTH_FORWARD_OPTIONS=--workers 2\t--threads  16
            """
        let file = try SettingsFile(parsing: Array(text.utf8), allowsOptions: true)
        #expect(file.configurationValues.value(of: .target) == Array("production-us".utf8))
        #expect(file.configurationValues.value(of: .providers) == Array("oura,fitbit".utf8))
        #expect(
            file.configurationValues.value(of: .fallback) == Array("https://app.example.com/cb/{provider}?a=b=c".utf8))
        #expect(file.configurationValues.value(of: .environments) == nil)
        #expect(file.options == ["--workers", "2", "--threads", "16"])
        #expect(file.configurationValues[.target] == Array("production-us".utf8))
    }

    @Test func anEmptyValueIsSetAndEmpty() throws {
        let file = try SettingsFile(parsing: Array("OAUTH_FORWARD_PROVIDERS=\n".utf8), allowsOptions: false)
        #expect(file.configurationValues.value(of: .providers) == [])
        #expect(file.options.isEmpty)
    }

    @Test(arguments: [
        ("OAUTH_FORWARD_TARGT=x", SettingsFileError.unknownName(line: 1, name: "OAUTH_FORWARD_TARGT", known: [])),
        ("\n\nPATH=/bin", .unknownName(line: 3, name: "PATH", known: [])),
        ("OAUTH_FORWARD_OPTIONS=--workers 2", .unknownName(line: 1, name: "OAUTH_FORWARD_OPTIONS", known: [])),
        ("OAUTH_FORWARD_TARGET=a\nOAUTH_FORWARD_TARGET=b", .duplicate(line: 2, name: "OAUTH_FORWARD_TARGET")),
        ("export OAUTH_FORWARD_TARGET", .malformed(line: 1, reason: "it is not NAME=value")),
        (
            "OAUTH_FORWARD_TARGET=a \\",
            .malformed(line: 1, reason: "a value continued on the next line is not supported")
        ),
    ])
    func refusesWhatItCannotReadSafely(text: String, expected: SettingsFileError) {
        do {
            _ = try SettingsFile(parsing: Array(text.utf8), allowsOptions: false)
            Issue.record("accepted \(text)")
        } catch {
            switch (error, expected) {
            case (.unknownName(let line, let name, let known), .unknownName(let expectedLine, let expectedName, _)):
                #expect(line == expectedLine && name == expectedName)
                #expect(known == ConfigurationVariable.allCases.map(\.name))
            default:
                #expect(error == expected)
            }
        }
    }

    /// The parser matches names by their bytes: each must be the variable's own name.
    @Test func everyVariableIsReadByItsName() throws {
        for variable in ConfigurationVariable.allCases {
            let file = try SettingsFile(parsing: Array("\(variable.name)=x".utf8), allowsOptions: false)
            #expect(file.configurationValues.value(of: variable) == [UInt8(ascii: "x")])
        }
        let options = try SettingsFile(parsing: Array("\(SettingsFile.optionsName)=-a b".utf8), allowsOptions: true)
        #expect(options.options == ["-a", "b"])
    }

    @Test func messagesNameTheLine() {
        #expect(
            SettingsFileError.duplicate(line: 4, name: "OAUTH_FORWARD_TARGET").message
                == "line 4: OAUTH_FORWARD_TARGET is set a second time")
    }
}
