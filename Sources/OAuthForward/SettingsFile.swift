/// The program's variables written in a file, one `NAME=value` line each, as systemd's `EnvironmentFile=` and
/// Debian's /etc/default files write them: `#` and `;` start a comment line, blank lines are skipped, spaces around
/// the name and the value are dropped, and a value in double or single quotes loses them.
///
/// Only the variables in `ConfigurationVariable` are read, and `OAUTH_FORWARD_OPTIONS` (more `serve` flags) where
/// the caller allows it: a misspelt name is an error with its line number, not a setting silently ignored. A name
/// given twice is an error too, since either reading would surprise someone.
public struct SettingsFile: Equatable, Sendable {
    /// The variable holding more `serve` flags, separated by spaces, as systemd expands `$OAUTH_FORWARD_OPTIONS`.
    public static let optionsName = "OAUTH_FORWARD_OPTIONS"

    /// Each variable set, its value's bytes as written, less the quotes.
    public private(set) var values: [String: [UInt8]] = [:]

    /// `OAUTH_FORWARD_OPTIONS` split at spaces and tabs; empty when it is unset.
    public var options: [String] {
        guard let value = values[Self.optionsName] else { return [] }
        return value.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") })
            .map { String(decoding: $0, as: UTF8.self) }
    }

    /// The variables as a configuration source.
    public var configurationValues: ConfigurationValues { ConfigurationValues { values[$0] } }

    public init(parsing bytes: [UInt8], allowsOptions: Bool) throws(SettingsFileError) {
        let known = ConfigurationVariable.allCases.map(\.name) + (allowsOptions ? [Self.optionsName] : [])
        for (index, rawLine) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .enumerated()
        {
            let number = index + 1
            var line = rawLine
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            line = line.trimmingBlanks
            guard let first = line.first, first != UInt8(ascii: "#"), first != UInt8(ascii: ";") else { continue }
            guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else {
                throw .malformed(line: number, reason: "it is not NAME=value")
            }
            let name = String(decoding: line[..<equals].trimmingBlanks, as: UTF8.self)
            guard known.contains(name) else { throw .unknownName(line: number, name: name, known: known) }
            guard values[name] == nil else { throw .duplicate(line: number, name: name) }
            var value = line[(equals + 1)...].trimmingBlanks
            if value.last == UInt8(ascii: "\\") {
                throw .malformed(line: number, reason: "a value continued on the next line is not supported")
            }
            for quote in [UInt8(ascii: "\""), UInt8(ascii: "'")]
            where value.count >= 2 && value.first == quote && value.last == quote {
                value = value.dropFirst().dropLast()
            }
            values[name] = Array(value)
        }
    }
}

extension ArraySlice<UInt8> {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingBlanks: ArraySlice<UInt8> {
        var slice = self
        while let first = slice.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
            slice = slice.dropFirst()
        }
        while let last = slice.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
            slice = slice.dropLast()
        }
        return slice
    }
}
