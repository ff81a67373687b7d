import Foundation
import Testing

@testable import OAuthForward

/// Every block between `BEGIN generated: <name>` and `END generated` in the repository is what `GeneratedText`
/// makes of the code now. With `OAUTH_FORWARD_GENERATE=1` in the environment (`scripts/generate`) it rewrites the
/// stale blocks instead of failing.
@Suite struct GeneratedTextTests {
    static let repository = ReadmeTests.repository
    static let generating = ProcessInfo.processInfo.environment["OAUTH_FORWARD_GENERATE"] == "1"

    /// Where blocks may be: every file but the code, the tests (which name the markers), builds and binaries.
    static let skipped: Set<String> = [".git", "Sources", "Tests", "dist", "corpus"]

    static func files() -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: repository) else { return [] }
        var found: [String] = []
        while let path = walker.nextObject() as? String {
            let name = (path as NSString).lastPathComponent
            if skipped.contains(name) || name.hasPrefix(".build") {
                walker.skipDescendants()
                continue
            }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: repository + "/" + path, isDirectory: &isDirectory),
                !isDirectory.boolValue, !name.hasSuffix(".png")
            {
                found.append(path)
            }
        }
        return found.sorted()
    }

    /// The text with each block made anew, and what is wrong with the markers.
    static func regenerate(_ text: String, in path: String) -> (text: String, names: [String], problems: [String]) {
        var output: [String] = []
        var names: [String] = []
        var problems: [String] = []
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)[...]
        var number = 0
        while let line = lines.popFirst() {
            number += 1
            output.append(line)
            guard let begin = line.range(of: "BEGIN generated: ") else { continue }
            let prefix = line.contains("<!--") ? "" : String(line[..<begin.lowerBound])
            var name = String(line[begin.upperBound...])
            if let end = name.range(of: " -->") { name = String(name[..<end.lowerBound]) }
            // A line that only speaks of the markers, as scripts/generate's comment does.
            guard !name.isEmpty, name.allSatisfy({ $0.isLowercase || $0 == "-" }) else { continue }
            guard let kind = GeneratedText.blocks[name] else {
                problems.append("\(path):\(number): no block named \(name) in GeneratedText.blocks")
                continue
            }
            names.append(name)
            // Skip the old block, up to its END line.
            var closed = false
            var block: [String] = []
            while let old = lines.popFirst() {
                number += 1
                if old.contains("END generated") {
                    block.append(old)
                    closed = true
                    break
                }
            }
            guard closed else {
                problems.append("\(path):\(number): block \(name) has no END generated line")
                break
            }
            output += content(kind, prefix: prefix) + block
        }
        return (output.joined(separator: "\n"), names, problems)
    }

    static func content(_ kind: GeneratedText.Kind, prefix: String) -> [String] {
        let width = GeneratedText.width - prefix.count
        switch kind {
        case .lines(let lines):
            return lines
        case .commentLines(let make):
            return make(width).map { trimmed(prefix + $0) }
        case .commentParagraph(let text):
            return wrap(text, width: width).map { trimmed(prefix + $0) }
        }
    }

    static func trimmed(_ line: String) -> String {
        var line = Substring(line)
        while line.last == " " { line = line.dropLast() }
        return String(line)
    }

    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty, line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        return lines + [line]
    }

    @Test func everyGeneratedBlockIsCurrent() throws {
        var used: Set<String> = []
        for path in Self.files() {
            guard let data = FileManager.default.contents(atPath: Self.repository + "/" + path),
                let text = String(data: data, encoding: .utf8), text.contains("BEGIN generated: ")
            else { continue }
            let (fresh, names, problems) = Self.regenerate(text, in: path)
            used.formUnion(names)
            for problem in problems { Issue.record(Comment(rawValue: problem)) }
            guard fresh != text else { continue }
            if Self.generating {
                try Data(fresh.utf8).write(to: URL(fileURLWithPath: Self.repository + "/" + path))
                print("generated: \(path)")
            } else {
                Issue.record("\(path) has a stale generated block: run scripts/generate")
            }
        }
        let unused = Set(GeneratedText.blocks.keys).subtracting(used).sorted()
        #expect(unused.isEmpty, "GeneratedText.blocks that no file holds: \(unused)")
    }

    /// Each row's samples get one answer, so the row's status and header fields hold for all of them.
    @Test(arguments: GeneratedText.answers.indices)
    func eachAnswerRowIsOneAnswer(row: Int) {
        let answer = GeneratedText.answers[row]
        let first = answer.samples[0].outcome().response
        for sample in answer.samples.dropFirst() {
            let response = sample.outcome().response
            #expect(response.status == first.status, "\(answer.request): \(sample) answers \(response.status)")
            #expect(
                response.headerFields.map(\.name) == first.headerFields.map(\.name),
                "\(answer.request): \(sample) has other header fields")
        }
    }

    /// The character class the documents and htaccess.example give is exactly the bytes a provider name takes.
    @Test func providerPatternIsTheSlugRule() {
        let characters = Array(GeneratedText.providerCharacters.utf8)
        #expect(characters.first == UInt8(ascii: "[") && characters.last == UInt8(ascii: "]"))
        var inClass = Set<UInt8>()
        var index = 1
        while index < characters.count - 1 {
            if index + 2 < characters.count - 1, characters[index + 1] == UInt8(ascii: "-") {
                for byte in characters[index]...characters[index + 2] { inClass.insert(byte) }
                index += 3
            } else {
                inClass.insert(characters[index])
                index += 1
            }
        }
        for byte in UInt8.min...UInt8.max {
            #expect(ProviderSlug.isSlugByte(byte) == inClass.contains(byte), "byte \(byte)")
        }
    }
}
