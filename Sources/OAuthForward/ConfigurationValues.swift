/// The raw values of the variables, from one source: a request's parameters, the process environment, flags or a
/// settings file. `nil` is unset. Indexed by `ConfigurationVariable`, so that nothing here names a variable: a new
/// case there is a new slot here.
///
/// The values sit one after another in one byte array, with a start and a length for each variable in another:
/// two arrays of plain integers, whose metadata the runtime has at hand. An array of `[UInt8]?` would make it build
/// `Optional<[UInt8]>`'s on a CGI start, about 52,000 instructions (callgrind, scripts/test-instructions).
package struct ConfigurationValues: Sendable {
    /// Every value set, one after another; a value set again leaves its old bytes behind.
    private var bytes: [UInt8] = []
    /// For the variable of raw value `i`: its start in `bytes` at `2 * i`, its length at `2 * i + 1`, or -1 when
    /// unset.
    private var spans: [Int]

    package init() {
        spans = Array(repeating: -1, count: 2 * ConfigurationVariable.count)
    }

    /// Reads each variable through `lookup`, by its name.
    package init(_ lookup: (String) -> [UInt8]?) {
        self.init()
        ConfigurationVariable.forEach { variable in
            if case .some(let value) = lookup(variable.name) { self[variable] = value }
        }
    }

    /// Reads each variable through `lookup`, which lends the bytes in place: a FastCGI request's parameters.
    package init(lending lookup: (ConfigurationVariable) -> UnsafeBufferPointer<UInt8>?) {
        self.init()
        ConfigurationVariable.forEach { variable in
            if let value = lookup(variable) { store(value, for: variable) }
        }
    }

    /// Sets the variables given, for tests and the fuzzer.
    package init(
        target: [UInt8]? = nil, providers: [UInt8]? = nil, environments: [UInt8]? = nil, fallback: [UInt8]? = nil,
        pathPrefix: [UInt8]? = nil
    ) {
        self.init()
        self[.target] = target
        self[.providers] = providers
        self[.environments] = environments
        self[.fallback] = fallback
        self[.pathPrefix] = pathPrefix
    }

    package subscript(variable: ConfigurationVariable) -> [UInt8]? {
        get {
            let slot = 2 * variable.rawValue
            guard spans[slot] >= 0 else { return nil }
            return Array(bytes[spans[slot]..<spans[slot] + spans[slot + 1]])
        }
        set {
            let slot = 2 * variable.rawValue
            guard case .some(let value) = newValue else {
                spans[slot] = -1
                return
            }
            value.withUnsafeBufferPointer { store($0, for: variable) }
        }
    }

    /// Sets `variable` to a copy of `value`, after the bytes already held.
    private mutating func store(_ value: UnsafeBufferPointer<UInt8>, for variable: ConfigurationVariable) {
        let slot = 2 * variable.rawValue
        spans[slot] = bytes.count
        spans[slot + 1] = value.count
        bytes.append(contentsOf: value)
    }

    /// Whether `variable` is set, without copying its value.
    package func isSet(_ variable: ConfigurationVariable) -> Bool {
        let slot = 2 * variable.rawValue
        return spans[slot] >= 0
    }

    package func value(of variable: ConfigurationVariable) -> [UInt8]? { self[variable] }

    package var isEmpty: Bool { !spans.contains { $0 >= 0 } }

    /// Whether every variable is set.
    package var isComplete: Bool {
        var complete = true
        ConfigurationVariable.forEach { variable in
            if !isSet(variable) { complete = false }
        }
        return complete
    }

    /// These values where set, `base` for the rest: a request's own parameters win, variable by variable.
    package func overriding(_ base: ConfigurationValues) -> ConfigurationValues {
        var merged = self
        ConfigurationVariable.forEach { variable in
            if !isSet(variable), base.isSet(variable) { merged[variable] = base[variable] }
        }
        return merged
    }

    package func configuration() -> ConfigurationResult {
        ConfigurationResult { () throws(ConfigurationError) in try Configuration(values: self) }
    }
}

extension ConfigurationValues: Equatable {
    /// The same variables set to the same bytes, wherever they sit.
    package static func == (left: ConfigurationValues, right: ConfigurationValues) -> Bool {
        var equal = true
        ConfigurationVariable.forEach { variable in
            guard equal else { return }
            switch (left.isSet(variable), right.isSet(variable)) {
            case (false, false): break
            case (true, true): equal = left.span(of: variable).elementsEqual(right.span(of: variable))
            default: equal = false
            }
        }
        return equal
    }

    /// Whether `lookup` gives the same variables set to the same bytes, compared in place: how the daemon sees that a
    /// request carries the configuration of the one before, without copying it.
    package func matches(_ lookup: (ConfigurationVariable) -> UnsafeBufferPointer<UInt8>?) -> Bool {
        var equal = true
        ConfigurationVariable.forEach { variable in
            guard equal else { return }
            switch (isSet(variable), lookup(variable)) {
            case (false, nil): break
            case (true, let value?):
                let slot = 2 * variable.rawValue
                equal =
                    spans[slot + 1] == value.count
                    && bytes.withUnsafeBufferPointer { all in
                        UnsafeBufferPointer(rebasing: all[spans[slot]..<spans[slot] + value.count]).elementsEqual(value)
                    }
            default: equal = false
            }
        }
        return equal
    }

    /// A set variable's bytes, in place.
    private func span(of variable: ConfigurationVariable) -> ArraySlice<UInt8> {
        let slot = 2 * variable.rawValue
        return bytes[spans[slot]..<spans[slot] + spans[slot + 1]]
    }
}
