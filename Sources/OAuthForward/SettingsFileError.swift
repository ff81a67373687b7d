/// A settings file line that cannot be read. `message` names the line; the caller puts the file's path first.
package enum SettingsFileError: Error, Equatable {
    case malformed(line: Int, reason: String)
    case unknownName(line: Int, name: String, known: [String])
    case duplicate(line: Int, name: String)

    package var message: String {
        switch self {
        case .malformed(let line, let reason): "line \(line): \(reason)"
        case .unknownName(let line, let name, let known):
            "line \(line): \(MessageText.escaped(name)) is not a setting this program reads; it reads "
                + known.joined(separator: ", ")
        case .duplicate(let line, let name): "line \(line): \(MessageText.escaped(name)) is set a second time"
        }
    }
}
