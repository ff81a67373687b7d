#ifndef CSTARTUP_H
#define CSTARTUP_H

// The command line as the C library hands it to the program's constructors, for the Swift standard library's
// CommandLine (see startup.c). Nothing here to call from Swift.

#endif
