#ifndef CTESTSUPPORT_H
#define CTESTSUPPORT_H

// Two glibc calls the tests need that Swift's Glibc module leaves out, as it was built without _GNU_SOURCE. Both
// keep a descriptor the multithreaded test runner opens from leaking into a child that another thread starts.
#include <spawn.h>
#include <unistd.h>

extern int pipe2(int fds[2], int flags);
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

static inline int CTestSupport_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }

static inline int CTestSupport_spawnCloseFrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

#endif
