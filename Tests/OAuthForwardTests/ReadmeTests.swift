import Testing

@testable import OAuthForward

#if canImport(Glibc)
import Glibc
#endif

/// What the documents show must work as shown. (Their tables of variables, environments and answers are made from
/// the code by `scripts/generate`, and `GeneratedTextTests` holds them to it.)
@Suite struct ReadmeTests {
    // Tests/OAuthForwardTests/ReadmeTests.swift, three levels below the repository.
    static let repository = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/")

    static let readme = read("README.md")

    static func read(_ path: String) -> String {
        guard let file = fopen(repository + "/" + path, "r") else { return "" }
        defer { fclose(file) }
        var text: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            text += buffer[..<count]
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// spawn-fcgi without -n forks and points the program's stdout and stderr at /dev/null: every log line lost.
    /// Each spawn-fcgi command the documents show keeps it, and sends stderr somewhere.
    @Test(arguments: [
        "README.md", "docs/NGINX.md", "nginx.conf.example", "apache.conf.example", "docs/OPERATIONS.md",
        "docs/DAEMON.md", "docs/APACHE.md", "docs/SHARED-HOSTING.md", "examples/Caddyfile.example",
        "examples/h2o.conf.example",
    ])
    func everySpawnFCGICommandKeepsTheLog(path: String) {
        let text = Self.read(path)
        #expect(!text.isEmpty, "\(path) could not be read")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, line) in lines.enumerated() {
            let command = line.drop { $0 == " " || $0 == "#" }
            guard command.hasPrefix("spawn-fcgi ") else { continue }
            // The command with its continuation lines.
            var whole = String(command)
            var next = index + 1
            while whole.hasSuffix("\\"), next < lines.count {
                whole += " " + lines[next].drop { $0 == " " || $0 == "#" }
                next += 1
            }
            #expect(whole.contains(" -n "), "\(path):\(index + 1) runs spawn-fcgi without -n: \(whole)")
            #expect(whole.contains("2>>"), "\(path):\(index + 1) sends stderr nowhere: \(whole)")
        }
    }
}
