/// What one thread is doing with a connection.
struct Hold {
    /// A duplicate of the connection's descriptor, or -1. libfcgi closes its own descriptor when a connection
    /// fails, and the number may then go to another thread's new connection; the duplicate still names this
    /// connection, so a `shutdown` through it can never reach another.
    var fd: Int32 = -1
    /// When the thread began waiting for its current request; nil between requests.
    var since: ContinuousClock.Instant? = nil
    /// Whether it waits on a kept-alive connection for a next request, which shutdown may cut at once.
    var waitsOnKeptConnection = false
}
