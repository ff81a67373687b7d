/// Why a settings file beside the program was not used. A request then answers 500, and the log says this.
package enum SettingsFileProblem: Error, Equatable, Sendable {
    case notARegularFile
    /// The name is a symbolic link, which is never followed.
    case symbolicLink
    case writableByGroup
    case writableByOthers
    /// Neither root nor the program file's owner owns it. `programOwner` is nil when the program file is not found.
    case ownedByAnotherUser(owner: UInt32, user: UInt32, programOwner: UInt32?)
    /// Its directory is writable by its group or by anyone, and not a sticky directory of root or the program's owner.
    case directoryWritableByOthers
    case tooLarge
    /// It exists but cannot be opened or read: the reason, as strerror gives it.
    case unreadable(String)
    case syntax(SettingsFileError)

    package var problem: String {
        switch self {
        case .notARegularFile: "is not a regular file"
        case .symbolicLink: "is a symbolic link, which is never followed; put the file itself there"
        case .writableByGroup: "is writable by its group; make it writable by its owner alone (chmod 644)"
        case .writableByOthers: "is writable by anyone; make it writable by its owner alone (chmod 644)"
        case .ownedByAnotherUser(let owner, let user, .some(let programOwner)):
            "belongs to uid \(owner), while the program runs as uid \(user) and its file belongs to uid "
                + "\(programOwner); it must belong to the program file's owner or to root"
        case .ownedByAnotherUser(let owner, let user, .none):
            "belongs to uid \(owner), while the program runs as uid \(user) and its file (SCRIPT_FILENAME) is not "
                + "found; it must belong to the program file's owner or to root"
        case .directoryWritableByOthers:
            "is in a directory that others can write to; make the directory writable by its owner alone (chmod 755)"
        case .tooLarge: "is larger than \(ScriptSettings.sizeLimit) bytes"
        case .unreadable(let reason): "cannot be read: \(reason)"
        case .syntax(let error): "cannot be used: \(error.message)"
        }
    }
}
