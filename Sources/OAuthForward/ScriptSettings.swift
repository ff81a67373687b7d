/// `oauth-forward-cgi.conf` in the directory of the running CGI script, for hosts whose web server cannot pass
/// variables to it: Apache's suEXEC clears the environment down to a fixed list, and `SetEnv` never arrives.
/// suEXEC keeps `SCRIPT_FILENAME`, which says where the script, and so the file, is.
///
/// The file is trusted as suEXEC trusts a script: only when nobody but its owner can change it, and its owner is the
/// user the program runs as, the owner of the program file, or root. The program's owner could replace the program
/// itself, so trusting their file gives nobody anything new; and without suEXEC the program runs as the web
/// server's user while the customer owns both files.
public enum ScriptSettings {
    public static let fileName = "oauth-forward-cgi.conf"

    /// The most the file may hold.
    public static let sizeLimit = 65536

    /// The file's path beside the script at `scriptFilename`; nil when that path names no directory.
    public static func path(besideScript scriptFilename: [UInt8]) -> [UInt8]? {
        guard let slash = scriptFilename.lastIndex(of: UInt8(ascii: "/")) else { return nil }
        var path = Array(scriptFilename[...slash])
        path.append(contentsOf: fileName.utf8)
        return path
    }

    /// Why a file of this type, mode and owner cannot be trusted; nil when it can. `mode` is `st_mode`;
    /// `programOwner` is asked only when the owner is neither root nor `user`, as it costs a `stat`.
    public static func problem(
        mode: UInt32, owner: UInt32, runningAs user: UInt32, programOwner: () -> UInt32?
    ) -> SettingsFileProblem? {
        if mode & 0o170000 != 0o100000 { return .notARegularFile }
        if mode & 0o002 != 0 { return .writableByOthers }
        if mode & 0o020 != 0 { return .writableByGroup }
        if owner != user && owner != 0 {
            guard case .some(let program) = programOwner(), program == owner else {
                return .ownedByAnotherUser(owner: owner, user: user)
            }
        }
        return nil
    }
}
