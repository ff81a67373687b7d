/// `oauth-forward-cgi.conf` in the directory of the running CGI script, for hosts whose web server cannot pass
/// variables to it: Apache's suEXEC clears the environment down to a fixed list, and `SetEnv` never arrives.
/// suEXEC keeps `SCRIPT_FILENAME`, which says where the script, and so the file, is.
///
/// The file is trusted only when nobody could change it who could not already replace the program: it is a regular
/// file (opened without following a symbolic link), writable by its owner alone, and owned by root or by the owner of
/// the program file. Not by the user the program runs as, as such: without suEXEC that is the web server's user,
/// whom every other site's scripts on the host run as too. Under suEXEC the program runs as its owner, so the
/// customer's own file is trusted there. Its directory must not let anyone else put a file there either: neither
/// group- nor world-writable, unless it is sticky and owned by root or the program's owner.
package enum ScriptSettings {
    package static let fileName = "oauth-forward-cgi.conf"

    /// The most the file may hold.
    package static let sizeLimit = 65536

    /// The file's path beside the script at `scriptFilename`; nil when that path names no directory.
    package static func path(besideScript scriptFilename: [UInt8]) -> [UInt8]? {
        guard let slash = scriptFilename.lastIndex(of: UInt8(ascii: "/")) else { return nil }
        var path = Array(scriptFilename[...slash])
        path.append(contentsOf: fileName.utf8)
        return path
    }

    /// Why a file of this type, mode and owner cannot be trusted; nil when it can. `mode` is `st_mode`; `user`, the
    /// user the program runs as, only goes into the message. `programOwner` (nil when the program file is not found)
    /// is asked only when the owner is not root, as it costs a `stat`.
    package static func problem(
        mode: UInt32, owner: UInt32, runningAs user: UInt32, programOwner: () -> UInt32?
    ) -> SettingsFileProblem? {
        if mode & 0o170000 != 0o100000 { return .notARegularFile }
        if mode & 0o002 != 0 { return .writableByOthers }
        if mode & 0o020 != 0 { return .writableByGroup }
        if owner != 0 {
            let program = programOwner()
            guard case .some(let programOwner) = program, programOwner == owner else {
                return .ownedByAnotherUser(owner: owner, user: user, programOwner: program)
            }
        }
        return nil
    }

    /// Why the file's directory, of this `st_mode` and owner, lets someone else put a file there; nil when it does
    /// not. `programOwner` is asked only for a sticky directory that root does not own.
    package static func directoryProblem(
        mode: UInt32, owner: UInt32, programOwner: () -> UInt32?
    ) -> SettingsFileProblem? {
        guard mode & 0o022 != 0 else { return nil }
        if mode & 0o1000 != 0 {
            if owner == 0 { return nil }
            if case .some(let programOwner) = programOwner(), programOwner == owner { return nil }
        }
        return .directoryWritableByOthers
    }
}
