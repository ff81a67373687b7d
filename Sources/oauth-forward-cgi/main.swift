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
    // The command line is what glibc hands the constructors (Sources/CStartup/startup.c): none at all only when the
    // program was started with an empty argument list, not even its own name.
    ProcessIO.writeAll(
        "oauth-forward-cgi: started without a command line, not even its own name. CGI needs no arguments; "
            + "for serve and check, start it by its name with them.\n", to: 2)
    exit(2)
}
if !hasArguments {
    ProcessIO.writeAll(CommandLineTool.usage, to: 2)
    exit(2)
}
OAuthForwardCommand.main(Array(CommandLine.arguments.dropFirst()))
