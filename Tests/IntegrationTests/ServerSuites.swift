import Testing

/// The suites that start daemons and web servers, one test at a time: they share the machine's two cores, its
/// loopback ports and /proc, and a test that times a daemon should not share them with a soak. The suites that
/// only run the program as CGI, and the contract's tests, run in parallel as usual.
@Suite(.serialized) enum ServerSuites {}
