/// Why a settings file beside the program was not used. A request then answers 500, and the log says this.
public enum SettingsFileProblem: Error, Equatable, Sendable {
    case notARegularFile
    case writableByGroup
    case writableByOthers
    case ownedByAnotherUser(owner: UInt32, user: UInt32)
    case tooLarge
    /// It exists but cannot be opened or read: the reason, as strerror gives it.
    case unreadable(String)
    case syntax(SettingsFileError)

    public var problem: String {
        switch self {
        case .notARegularFile: "is not a regular file"
        case .writableByGroup: "is writable by its group; make it writable by its owner alone (chmod 644)"
        case .writableByOthers: "is writable by anyone; make it writable by its owner alone (chmod 644)"
        case .ownedByAnotherUser(let owner, let user):
            "belongs to uid \(owner), while the program runs as uid \(user); it must belong to that user, to the "
                + "program's owner, or to root"
        case .tooLarge: "is larger than \(ScriptSettings.sizeLimit) bytes"
        case .unreadable(let reason): "cannot be read: \(reason)"
        case .syntax(let error): "cannot be used: \(error.message)"
        }
    }
}
