#ifndef CEPOLL_H
#define CEPOLL_H

// Swift's Glibc module leaves out sys/epoll.h. The daemon needs EPOLLEXCLUSIVE to wake one thread per connection.
#include <sys/epoll.h>

#endif
