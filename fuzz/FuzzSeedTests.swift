import Foundation
import Testing

@testable import OAuthForward

/// The forwarder's seeds, as fuzz/make-seeds writes them: `<case>@<setup>-<hash>`. A seed's first byte picks its
/// setup by its place in `Setup.all`, so a setup inserted into that list once moved every later seed to another
/// setup, and the token seeds answered 404 without reaching the state token. These tests run the fuzz harness's own
/// reading of each seed.
@Suite struct FuzzSeedTests {
    struct Seed: CustomTestStringConvertible, Sendable {
        let file: String
        let input: [UInt8]

        /// What make-seeds called it, and the setup it was written for.
        var caseName: Substring { stem.prefix { $0 != "@" } }
        var setupName: Substring { stem.drop { $0 != "@" }.dropFirst() }
        private var stem: Substring { file[..<(file.lastIndex(of: "-") ?? file.endIndex)] }

        var testDescription: String { file }
    }

    static let seeds: [Seed] = {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/corpus/forwarder"
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.sorted().map { file in
            let data = (try? Data(contentsOf: URL(fileURLWithPath: directory + "/" + file))) ?? Data()
            return Seed(file: file, input: Array(data))
        }
    }()

    /// The seeds written to reach the state token: a token in the query, or a payload the harness wraps in one.
    static let tokenSeeds = seeds.filter { $0.caseName.hasPrefix("token-") || $0.caseName.hasPrefix("payload-") }

    @Test func everySetupHasItsOwnNameAndASeed() {
        let names = Setup.all.map(\.name)
        #expect(Set(names).count == names.count, "\(names)")
        for name in names {
            #expect(Self.seeds.contains { $0.setupName == name }, "no seed for the setup \(name)")
        }
        #expect(!Self.tokenSeeds.isEmpty)
    }

    @Test(arguments: seeds)
    func eachSeedSelectsTheSetupItNames(seed: Seed) {
        #expect(ForwarderCase(seed.input).setup.name == seed.setupName)
    }

    /// Auto mode's routes all come from reading the state: matched, sent to the fallback, or refused for it.
    @Test(arguments: tokenSeeds)
    func eachTokenSeedReachesTheStateToken(seed: Seed) {
        let request = ForwarderCase(seed.input)
        let outcome = Forwarder.respond(to: request.request, configuration: request.setup.configuration)
        #expect(outcome.response.status != .notFound, "\(outcome.log.line)")
        #expect(["aud_match", "fallback", "rejected"].contains(outcome.log.route), "\(outcome.log.line)")
    }
}
