import FastCGIDaemon

#if canImport(Glibc)
import Glibc
#endif

// How the program was started decides what it does. A web server's request never reaches the argument parser,
// nor builds `CommandLine.arguments`, an array of Strings that costs a CGI start about 33,000 instructions
// (callgrind; scripts/test-instructions holds the budget).
let hasArguments = CommandLine.argc > 1

// The daemon's signals wait from here until it can act on them: a SIGHUP while it starts must not kill it.
if hasArguments, let command = CommandLine.unsafeArgv[1], strcmp(command, "serve") == 0 {
    Supervisor.holdSignals()
}

if let status = WebServerLaunch.serve(hasArguments: hasArguments) {
    exit(status)
}
if CommandLine.argc == 0 {
    // The static runtime reads the command line from /proc/self/cmdline; without /proc it sees none at all.
    ProcessIO.writeAll(
        "oauth-forward-cgi: cannot read its command line: /proc is not mounted here. CGI needs no arguments; "
            + "for serve and check, mount /proc.\n", to: 2)
    exit(2)
}
if !hasArguments {
    ProcessIO.writeAll(CommandLineTool.usage, to: 2)
    exit(2)
}
OAuthForwardCommand.main(Array(CommandLine.arguments.dropFirst()))
