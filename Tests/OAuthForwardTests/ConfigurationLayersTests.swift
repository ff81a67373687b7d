import OAuthForward
import Testing

/// The variable set's one home, `ConfigurationVariable`: values indexed by it, the settings file's names matched
/// through it, and the precedence of flags, the environment and a file with `check`'s report, all reached here
/// without the binary.
@Suite struct ConfigurationLayersTests {
    @Test func valuesAreIndexedByTheVariable() {
        var values = ConfigurationValues()
        #expect(values.isEmpty && !values.isComplete)
        for variable in ConfigurationVariable.allCases {
            #expect(values[variable] == nil)
            values[variable] = Array(variable.name.utf8)
        }
        #expect(values.isComplete && !values.isEmpty)
        for variable in ConfigurationVariable.allCases { #expect(values[variable] == Array(variable.name.utf8)) }
        // Set again, set empty, unset: each slot on its own, and equality by value, not by layout.
        values[.providers] = []
        values[.fallback] = nil
        #expect(values[.providers] == [] && values[.fallback] == nil && !values.isComplete)
        var same = ConfigurationValues()
        for variable in ConfigurationVariable.allCases.reversed() where variable != .fallback {
            same[variable] = variable == .providers ? [] : Array(variable.name.utf8)
        }
        #expect(same == values)
        same[.target] = Array("other".utf8)
        #expect(same != values)
    }

    /// How the daemon reads a request's values and sees they are the ones before (issue 22): in place, from bytes
    /// it is lent, set and unset and empty each told apart.
    @Test func lentValuesAreReadAndComparedInPlace() {
        let lent: [ConfigurationVariable: [UInt8]] = [.target: Array("production-us".utf8), .providers: []]
        let values = Self.lending(lent) { ConfigurationValues(lending: $0) }
        #expect(values == ConfigurationValues(target: Array("production-us".utf8), providers: []))
        #expect(Self.lending(lent) { values.matches($0) })
        #expect(!Self.lending([.target: Array("production-us".utf8)]) { values.matches($0) })
        #expect(!Self.lending([.target: Array("production-eu".utf8), .providers: []]) { values.matches($0) })
        #expect(!Self.lending(lent.merging([.fallback: []]) { $1 }) { values.matches($0) })
        #expect(Self.lending([:]) { ConfigurationValues().matches($0) && !values.matches($0) })
    }

    /// Calls `body` with a lookup that lends `values`' bytes from memory of their own, freed afterwards.
    static func lending<Result>(
        _ values: [ConfigurationVariable: [UInt8]],
        _ body: ((ConfigurationVariable) -> UnsafeBufferPointer<UInt8>?) -> Result
    ) -> Result {
        let storage = values.mapValues { bytes in
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
            _ = buffer.initialize(from: bytes)
            return UnsafeBufferPointer(rebasing: buffer[0..<bytes.count])
        }
        defer { storage.values.forEach { UnsafeMutableRawPointer(mutating: $0.baseAddress!).deallocate() } }
        return body { storage[$0] }
    }

    @Test func everyVariableIsLookedUpByItsName() {
        let values = ConfigurationValues { name in Array("value of \(name)".utf8) }
        for variable in ConfigurationVariable.allCases {
            #expect(values[variable] == Array("value of \(variable.name)".utf8))
        }
        #expect(ConfigurationVariable.count == ConfigurationVariable.allCases.count)
        for variable in ConfigurationVariable.allCases {
            #expect(ConfigurationVariable(named: Array(variable.name.utf8)[...]) == variable)
        }
        #expect(ConfigurationVariable(named: Array("OAUTH_FORWARD_TARGETS".utf8)[...]) == nil)
    }

    @Test func aRequestsOwnValuesWinVariableByVariable() {
        let request = ConfigurationValues(target: Array("sandbox-eu".utf8))
        let process = ConfigurationValues(target: Array("production-us".utf8), providers: Array("oura".utf8))
        let merged = request.overriding(process)
        #expect(merged[.target] == Array("sandbox-eu".utf8))
        #expect(merged[.providers] == Array("oura".utf8))
        #expect(merged[.environments] == nil)
    }

    /// Flags, then the environment, then the file; the report names each value's source, and the workers get what
    /// came from flags and the file.
    @Test func flagsThenEnvironmentThenFile() {
        let layers = ConfigurationLayers(
            flags: ConfigurationValues(target: Array("sandbox-us".utf8)),
            environment: ConfigurationValues(target: Array("production-us".utf8), providers: Array("oura".utf8)),
            file: ConfigurationValues(
                target: Array("sandbox-eu".utf8), providers: Array("fitbit".utf8), pathPrefix: Array("/cb".utf8)),
            fileName: "/etc/default/oauth-forward-cgi")
        let values = layers.values
        #expect(values[.target] == Array("sandbox-us".utf8))
        #expect(values[.providers] == Array("oura".utf8))
        #expect(values[.pathPrefix] == Array("/cb".utf8))
        #expect(values[.fallback] == nil)
        #expect(
            String(decoding: layers.report, as: UTF8.self) == """
                OAUTH_FORWARD_TARGET: sandbox-us (--target)
                OAUTH_FORWARD_PROVIDERS: oura (environment)
                OAUTH_FORWARD_ENVIRONMENTS: - (unset)
                OAUTH_FORWARD_FALLBACK: - (unset)
                OAUTH_FORWARD_PATH_PREFIX: /cb (file /etc/default/oauth-forward-cgi)

                """)
        #expect(layers.workerEnvironment.map(\.0) == ["OAUTH_FORWARD_TARGET", "OAUTH_FORWARD_PATH_PREFIX"])
        #expect(layers.workerEnvironment.map(\.1) == ["sandbox-us", "/cb"])
    }
}
