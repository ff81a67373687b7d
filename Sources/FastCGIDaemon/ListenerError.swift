/// Why the daemon could not get a socket to listen on. Each message says what to do.
package struct ListenerError: Error {
    package let message: String
}
