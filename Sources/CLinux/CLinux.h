#ifndef CLINUX_H
#define CLINUX_H

// Linux calls that Swift's Glibc module leaves out, because glibc declares them only under _GNU_SOURCE: a sealed
// memory file, which a reload uses to hand the configuration it checked to the program it starts, and accept4, which
// marks a connection close-on-exec in the same system call that accepts it.
#include <sys/syscall.h>
#include <unistd.h>

// From linux/memfd.h and linux/fcntl.h, stable kernel ABI since Linux 3.17.
#define CLINUX_MFD_CLOEXEC 0x0001U
#define CLINUX_MFD_ALLOW_SEALING 0x0002U
#define CLINUX_F_ADD_SEALS 1033
#define CLINUX_F_GET_SEALS 1034
#define CLINUX_F_SEAL_SEAL 0x0001
#define CLINUX_F_SEAL_SHRINK 0x0002
#define CLINUX_F_SEAL_GROW 0x0004
#define CLINUX_F_SEAL_WRITE 0x0008

/// accept4(2) without the peer's address, `flags` being SOCK_CLOEXEC and SOCK_NONBLOCK as for socket(2); -1 with
/// errno set on failure.
static inline int clinux_accept4(int fd, int flags) {
    return (int)syscall(SYS_accept4, fd, (void *)0, (void *)0, flags);
}

/// memfd_create(2); -1 with errno set on failure.
static inline int clinux_memfd_create(const char *name, unsigned int flags) {
    return (int)syscall(SYS_memfd_create, name, flags);
}

#endif
