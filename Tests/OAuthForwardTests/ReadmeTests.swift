import Testing

@testable import OAuthForward

#if canImport(Glibc)
import Glibc
#endif

/// The README's tables are the code's: a variable or an environment added, renamed or reworded in one place and
/// not the other fails here.
@Suite struct ReadmeTests {
    static let readme: String = {
        // Tests/OAuthForwardTests/ReadmeTests.swift, three levels below the repository.
        let repository = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
        guard let file = fopen(repository + "/README.md", "r") else { return "" }
        defer { fclose(file) }
        var text: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            text += buffer[..<count]
        }
        return String(decoding: text, as: UTF8.self)
    }()

    @Test func configurationTableIsTheVariablesTable() {
        #expect(!Self.readme.isEmpty, "README.md could not be read")
        let table = ConfigurationVariable.markdownTable
        #expect(Self.readme.contains(table + "\n"), "README.md's configuration table differs from:\n\(table)")
    }

    @Test func presetsTableIsTheEnvironments() {
        let table =
            (["| Preset | Forwards to |", "|--------|-------------|"]
            + JunctionEnvironment.allCases.map { "| `\($0.presetName)` | `\($0.callbackTemplate)` |" })
            .joined(separator: "\n")
        #expect(Self.readme.contains(table + "\n"), "README.md's presets table differs from:\n\(table)")
    }
}
