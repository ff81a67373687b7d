import Foundation
import Testing

/// What README.md, ARCHITECTURE.md and docs/*.md cite exists: a document renamed, a file moved or a type's member
/// renamed fails here. The rules, kept narrow so that nothing else is taken for a citation:
/// - a link `](target)` that is not a URL names a file or directory relative to the document, and its `#anchor`, if
///   any, a heading of the Markdown file it names;
/// - a word that starts with one of the repository's top-level directories and a slash (`scripts/test`,
///   `./scripts/test`, `Sources/OAuthForward/`), and holds no pattern (`*`, `{`, `<`), is a path from the
///   repository's root; another project's paths are written otherwise (threaded.c in libfcgi's `examples`);
/// - a code span that is a file name with one of `fileExtensions`, at most two dots and no slash
///   (`Shutdown.swift`, `nginx.conf.example`), is a file somewhere in the repository;
/// - a code span that is exactly `Type.member`, or `Type.member(...)`, and not a file's name, names a type that
///   `Sources`, `fuzz` or `Tests` declares (enum, struct, class, actor, protocol, or an extension of it) and a
///   member declared in one of the files that do (func, var, let, case or init).
@Suite struct DocsReferenceTests {
    static let repository = ReadmeTests.repository
    static let topLevel = ["Sources", "Tests", "docs", "scripts", "bench", "fuzz", "examples", "systemd", "packaging"]
    static let fileExtensions = ["swift", "sh", "md", "py", "c", "example", "yaml", "yml", "toml"]

    static var documents: [String] {
        let docs = (try? FileManager.default.contentsOfDirectory(atPath: repository + "/docs")) ?? []
        return ["README.md", "ARCHITECTURE.md"] + docs.filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
    }

    static func read(_ path: String) -> String {
        FileManager.default.contents(atPath: repository + "/" + path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: repository + "/" + path) }

    /// Every file's name, outside builds and git.
    static let fileNames: Set<String> = {
        var names: Set<String> = []
        guard let walker = FileManager.default.enumerator(atPath: repository) else { return names }
        while let path = walker.nextObject() as? String {
            let name = (path as NSString).lastPathComponent
            if name == ".git" || name.hasPrefix(".build") || name == "corpus" {
                walker.skipDescendants()
                continue
            }
            names.insert(name)
        }
        return names
    }()

    /// `path` with `.` and `..` folded, or nil when it climbs out of the repository.
    static func normalized(_ path: String) -> String? {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                guard parts.popLast() != nil else { return nil }
            } else {
                parts.append(part)
            }
        }
        return parts.joined(separator: "/")
    }

    /// GitHub's anchor for a heading: lower case, spaces to hyphens, punctuation but `-` and `_` dropped.
    static func anchor(_ heading: String) -> String {
        String(
            heading.lowercased().compactMap { character -> Character? in
                if character == " " { return "-" }
                if character.isLetter || character.isNumber || character == "-" || character == "_" { return character }
                return nil
            })
    }

    static func anchors(in path: String) -> Set<String> {
        var found: Set<String> = []
        var inCode = false
        for line in read(path).split(separator: "\n") {
            if line.hasPrefix("```") { inCode.toggle() }
            guard !inCode, line.hasPrefix("#") else { continue }
            found.insert(anchor(String(line.drop { $0 == "#" }.drop { $0 == " " })))
        }
        return found
    }

    /// The text of each code span.
    static func codeSpans(_ text: String) -> [String] {
        text.split(separator: "`", omittingEmptySubsequences: false).enumerated().compactMap { index, part in
            index % 2 == 1 && !part.contains("\n") ? String(part) : nil
        }
    }

    @Test(arguments: documents)
    func linksReachTheirFilesAndHeadings(document: String) {
        let text = Self.read(document)
        #expect(!text.isEmpty, "\(document) could not be read")
        let directory = (document as NSString).deletingLastPathComponent
        var rest = Substring(text)
        while let start = rest.range(of: "](") {
            rest = rest[start.upperBound...]
            guard let end = rest.firstIndex(of: ")") else { break }
            let target = String(rest[..<end])
            if target.contains("://") || target.hasPrefix("mailto:") || target.contains(" ") { continue }
            let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
            let file = parts[0].isEmpty ? document : Self.normalized(directory + "/" + parts[0]) ?? ""
            #expect(!file.isEmpty && Self.exists(file), "\(document) links to \(target), which is not there")
            if parts.count == 2, file.hasSuffix(".md") {
                #expect(
                    Self.anchors(in: file).contains(String(parts[1])),
                    "\(document) links to \(target): \(file) has no such heading")
            }
        }
    }

    @Test(arguments: documents)
    func pathsAndFileNamesExist(document: String) {
        let text = Self.read(document)
        let pathCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+/-*{}<>")
        for word in text.split(whereSeparator: { !pathCharacters.contains($0) })
        where !word.contains(where: \.isPattern) {
            var path = word.hasPrefix("./") ? word.dropFirst(2) : word
            while let last = path.last, last == "." || last == "," || last == ":" { path = path.dropLast() }
            guard let slash = path.firstIndex(of: "/"), Self.topLevel.contains(String(path[..<slash])) else {
                continue
            }
            #expect(Self.exists(String(path)), "\(document) cites \(path), which is not in the repository")
        }
        let nameCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-")
        for span in Self.codeSpans(text) where span.allSatisfy(nameCharacters.contains) {
            // A host name such as api.us.junction.com.evil.example is not a file.
            guard span.filter({ $0 == "." }).count <= 2 else { continue }
            guard let dot = span.lastIndex(of: "."), Self.fileExtensions.contains(String(span[dot...].dropFirst()))
            else { continue }
            #expect(Self.fileNames.contains(span), "\(document) cites \(span), which no file in the repository is")
        }
    }

    /// The declarations of `Sources`, `fuzz` and `Tests`, file by file.
    static let sources: [(path: String, text: String)] = {
        var files: [(String, String)] = []
        for directory in ["Sources", "fuzz", "Tests"] {
            guard let walker = FileManager.default.enumerator(atPath: repository + "/" + directory) else { continue }
            while let path = walker.nextObject() as? String {
                guard path.hasSuffix(".swift") else { continue }
                files.append((directory + "/" + path, read(directory + "/" + path)))
            }
        }
        return files
    }()

    static func declares(_ text: String, type: String) -> Bool {
        ["enum", "struct", "class", "actor", "protocol", "extension"].contains { keyword in
            text.contains("\(keyword) \(type) ") || text.contains("\(keyword) \(type):")
                || text.contains("\(keyword) \(type)<") || text.contains("\(keyword) \(type) {")
        }
    }

    static func declares(_ text: String, member: String) -> Bool {
        if member == "init" { return text.contains("init(") || text.contains("init?(") }
        return ["func", "var", "let", "case"].contains { keyword in
            ["(", " ", ":", "<", ",", "\n"].contains { text.contains("\(keyword) \(member)\($0)") }
        } || text.contains(", \(member),") || text.contains(", \(member)\n")
    }

    @Test(arguments: documents)
    func typesAndMembersExist(document: String) {
        for span in Self.codeSpans(Self.read(document)) {
            let name = span.prefix { $0 != "(" }
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, span == name || span.hasSuffix(")"),
                let type = parts.first, let initial = type.first, initial.isUppercase,
                type.allSatisfy({ $0.isLetter || $0.isNumber }), let member = parts.last, let first = member.first,
                first.isLowercase, member.allSatisfy({ $0.isLetter || $0.isNumber })
            else { continue }
            // A file name, such as `Shutdown.swift` or `Package.resolved`, is the other test's.
            if Self.fileExtensions.contains(String(member)) || Self.fileNames.contains(span) { continue }
            let files = Self.sources.filter { Self.declares($0.text, type: String(type)) }
            #expect(!files.isEmpty, "\(document) cites \(span): no type \(type) in Sources, fuzz or Tests")
            guard !files.isEmpty else { continue }
            #expect(
                files.contains { Self.declares($0.text, member: String(member)) },
                "\(document) cites \(span): \(type) declares no \(member)")
        }
    }
}

extension Character {
    /// A character that makes a cited path a pattern rather than a file.
    fileprivate var isPattern: Bool { self == "*" || self == "{" || self == "}" || self == "<" || self == ">" }
}
