/// What a reload's check tells the running supervisor, on its standard output: the new program's version, and
/// how it would run its workers with the configuration it was given. The supervisor starts that generation from
/// the new binary and waits until it serves; only then does it re-execute itself. The new program computes the same
/// plan from the same bytes, and goes on spawning its workers the same way.
package struct ReloadPlan: Equatable, Sendable {
    package var version: String
    package var workers: Int
    package var workerSettings: WorkerSettings
    /// `NAME=value` for each variable the workers get beyond the supervisor's own environment.
    package var environment: [String]

    package init(version: String, workers: Int, workerSettings: WorkerSettings, environment: [String]) {
        self.version = version
        self.workers = workers
        self.workerSettings = workerSettings
        self.environment = environment
    }

    /// The version on the first line, as a person reads it; then NUL-terminated fields: `workers`, the worker
    /// arguments, an empty field, and the environment. Values may hold any byte but NUL.
    package var encoded: [UInt8] {
        var bytes = Array("\(version)\n".utf8)
        for field in ["\(workers)"] + workerSettings.arguments + [""] + environment {
            bytes += field.utf8
            bytes.append(0)
        }
        return bytes
    }

    /// Reads what `encoded` wrote; nil for anything else.
    package init?(decoding bytes: [UInt8]) {
        guard let newline = bytes.firstIndex(of: 0x0A), bytes.last == 0 else { return nil }
        let version = String(decoding: bytes[..<newline], as: UTF8.self)
        guard !version.isEmpty, version.allSatisfy({ $0.isLetter || $0.isNumber || ".-+~_".contains($0) }) else {
            return nil
        }
        let fields = bytes[(newline + 1)...].dropLast().split(separator: 0, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        guard let separator = fields.firstIndex(of: ""), separator >= 1, let workers = Int(fields[0]),
            workers >= 1,
            let settings = WorkerSettings(arguments: Array(fields[1..<separator])),
            settings.supervisor == nil, settings.readyFD == nil
        else { return nil }
        let environment = Array(fields[(separator + 1)...])
        guard environment.allSatisfy(Self.isAssignment) else { return nil }
        self.init(version: version, workers: workers, workerSettings: settings, environment: environment)
    }

    /// `NAME=value`, with a name of capitals, digits and underscores.
    private static func isAssignment(_ field: String) -> Bool {
        guard let equals = field.firstIndex(of: "="), equals != field.startIndex else { return false }
        return field[..<equals].allSatisfy { $0 == "_" || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }

    /// The environment as names and values, as the supervisor spawns with it.
    package var environmentPairs: [(String, String)] {
        environment.map { field in
            let equals = field.firstIndex(of: "=")!
            return (String(field[..<equals]), String(field[field.index(after: equals)...]))
        }
    }
}
