// The command line, without reading /proc.
//
// The static Swift runtime's own definition of the function below (CommandLine.cpp in libswiftCore.a) comes with a
// constructor that opens /proc/self/maps, scans it line by line with sscanf for the stack and walks back from
// `environ`: about 56,000 instructions on every CGI start (callgrind), before main, and no command line at all where
// /proc is missing. Defined here, in an object the link reads before the archive, the archive's member is never
// extracted, nor its constructor run. glibc calls every constructor with (argc, argv, envp), in a static executable
// as in a dynamic one, where the shared runtime's own answer is the same.

#include "CStartup.h"

static int startupArgc;
static char **startupArgv;

__attribute__((constructor)) static void oauthForwardKeepCommandLine(int argc, char **argv, char **envp) {
    (void)envp;
    startupArgc = argc;
    startupArgv = argv;
}

// The standard library's one call for CommandLine: the arguments, and their count in *count. An empty list when no
// constructor ran, as the runtime's.
char **_swift_stdlib_getUnsafeArgvArgc(int *count) {
    static char *empty[] = {0};
    if (startupArgv == 0) {
        *count = 0;
        return empty;
    }
    *count = startupArgc;
    return startupArgv;
}
