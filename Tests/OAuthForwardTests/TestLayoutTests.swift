import Foundation
import Testing

/// A suite is found by its name: each test file holds the top-level suite it is named after, and no other.
@Suite struct TestLayoutTests {
    @Test func eachTestFileIsNamedAfterItsOneSuite() throws {
        let tests = ReadmeTests.repository + "/Tests"
        let walker = try #require(FileManager.default.enumerator(atPath: tests))
        var checked = 0
        for case let path as String in walker where path.hasSuffix(".swift") {
            let text = try String(contentsOfFile: tests + "/" + path, encoding: .utf8)
            let suites = text.split(separator: "\n").compactMap { line -> Substring? in
                guard line.hasPrefix("@Suite struct ") else { return nil }
                return line.dropFirst("@Suite struct ".count).prefix { $0.isLetter || $0.isNumber }
            }
            guard !suites.isEmpty else { continue }
            let name = (path as NSString).lastPathComponent.dropLast(".swift".count)
            #expect(suites == [name], "\(path) holds \(suites)")
            checked += 1
        }
        #expect(checked > 20)
    }
}
