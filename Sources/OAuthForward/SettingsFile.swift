/// The program's variables written in a file, one `NAME=value` line each, as systemd's `EnvironmentFile=` and
/// Debian's /etc/default files write them: `#` and `;` start a comment line, blank lines are skipped, spaces around
/// the name and the value are dropped, and a value in double or single quotes loses them.
///
/// Only the variables in `ConfigurationVariable` are read, and `OAUTH_FORWARD_OPTIONS` (more `serve` flags) where
/// the caller allows it: a misspelt name is an error with its line number, not a setting silently ignored. A name
/// given twice is an error too, since either reading would surprise someone.
///
/// A CGI request reads this file on every start, so the parser walks the bytes by index and keeps the values in
/// fixed fields: a `Dictionary` or an array of slices here made the runtime build generic type metadata, 280,000
/// instructions, more than the rest of the request (callgrind; scripts/test-instructions holds the budget).
package struct SettingsFile: Equatable, Sendable {
    /// The variable holding more `serve` flags, separated by spaces, as systemd expands `$OAUTH_FORWARD_OPTIONS`.
    package static let optionsName = "OAUTH_FORWARD_OPTIONS"

    /// The variables, as the file sets them: the bytes as written, less the quotes.
    package private(set) var configurationValues = ConfigurationValues()
    /// `OAUTH_FORWARD_OPTIONS`, as written; empty when unset. Not an optional: destroying an `Optional<[UInt8]>`
    /// field here made the runtime build that type's metadata, 54,000 instructions on a CGI start (callgrind,
    /// scripts/test-instructions).
    package private(set) var optionsValue: [UInt8] = []
    private var hasOptions = false

    /// `OAUTH_FORWARD_OPTIONS` split at spaces and tabs; empty when it is unset.
    package var options: [String] {
        optionsValue.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") })
            .map { String(decoding: $0, as: UTF8.self) }
    }

    /// The variables of a file that may not hold `OAUTH_FORWARD_OPTIONS`: the CGI request's form, which
    /// keeps the parsed file inside this module (destroying it elsewhere made the runtime build array metadata).
    package static func configurationValues(parsing bytes: [UInt8]) throws(SettingsFileError) -> ConfigurationValues {
        try SettingsFile(parsing: bytes, allowsOptions: false).configurationValues
    }

    package init(parsing bytes: [UInt8], allowsOptions: Bool) throws(SettingsFileError) {
        var start = 0
        var number = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            number += 1
            try read(line: bytes[start..<end], number: number, allowsOptions: allowsOptions)
            start = end + 1
        }
    }

    private mutating func read(
        line raw: ArraySlice<UInt8>, number: Int, allowsOptions: Bool
    ) throws(SettingsFileError) {
        var line = raw
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        line = Self.trimmingBlanks(line)
        guard let first = line.first, first != UInt8(ascii: "#"), first != UInt8(ascii: ";") else { return }
        guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else {
            throw .malformed(line: number, reason: "it is not NAME=value")
        }
        let name = Self.trimmingBlanks(line[..<equals])
        var value = Self.trimmingBlanks(line[(equals + 1)...])
        if value.last == UInt8(ascii: "\\") {
            throw .malformed(line: number, reason: "a value continued on the next line is not supported")
        }
        if value.count >= 2, let quote = value.first, quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'"),
            value.last == quote
        {
            value = value.dropFirst().dropLast()
        }
        let set: Bool
        if let variable = ConfigurationVariable(named: name) {
            set = configurationValues.isSet(variable)
            configurationValues[variable] = Array(value)
        } else if allowsOptions && Self.equals(name, "OAUTH_FORWARD_OPTIONS") {
            set = hasOptions
            hasOptions = true
            optionsValue = Array(value)
        } else {
            let known = ConfigurationVariable.allCases.map(\.name) + (allowsOptions ? [Self.optionsName] : [])
            throw .unknownName(line: number, name: String(decoding: name, as: UTF8.self), known: known)
        }
        if set { throw .duplicate(line: number, name: String(decoding: name, as: UTF8.self)) }
    }

    private static func equals(_ bytes: ArraySlice<UInt8>, _ name: StaticString) -> Bool {
        guard bytes.count == name.utf8CodeUnitCount else { return false }
        let pointer = name.utf8Start
        var offset = 0
        for byte in bytes {
            if byte != pointer[offset] { return false }
            offset += 1
        }
        return true
    }

    /// Without leading and trailing spaces and tabs.
    private static func trimmingBlanks(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
            slice = slice.dropFirst()
        }
        while let last = slice.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
            slice = slice.dropLast()
        }
        return slice
    }
}
