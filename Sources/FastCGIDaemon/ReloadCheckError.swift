import OAuthForward

/// Why the binary on disk cannot take over in a reload.
enum ReloadCheckError: Error, Equatable {
    case cannotStart(SystemCallError)
    case killed(signal: Int32)
    /// It exited non-zero: its flags or its configuration are wrong, as its last message says.
    case refused(exit: Int32, message: String)
    case timedOut
    /// It exited 0 without printing a plan: not a program that can take over.
    case unexpectedOutput
    /// A stop signal came while it ran.
    case abandoned

    var message: String {
        switch self {
        case .cannotStart(let error): "the new binary cannot be started: \(error.message)"
        case .killed(let signal): "the new binary's check was killed by signal \(signal)"
        case .refused(let exit, let message):
            "the new binary refused the command line or the configuration (exit \(exit)): "
                + MessageText.escaped(message.isEmpty ? "it said nothing" : message)
        case .timedOut: "the new binary's check did not finish within \(ReloadCheck.timeout.milliseconds) ms"
        case .unexpectedOutput: "the new binary's check printed no plan that this version can read"
        case .abandoned: "a stop signal came first"
        }
    }
}
