import Testing

@testable import FastCGIDaemon

#if canImport(Glibc)
import Glibc
#endif

/// What a connection thread is told when it wakes: a real listening socket, a real wake pipe and a real epoll set.
@Suite struct AcceptPollerTests {
    /// A unix socket listening in a directory of its own, a client connection waiting in its backlog on request,
    /// and a wake pipe.
    final class Sockets {
        let directory: String
        let listener: Int32
        let wake: (read: Int32, write: Int32)
        private var clients: [Int32] = []

        init() throws {
            var template = Array("/tmp/oafc-poller-XXXXXX".utf8CString)
            let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
            directory = try #require(made.map { String(cString: $0) })
            listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            var pipeEnds: [Int32] = [-1, -1]
            #expect(pipe(&pipeEnds) == 0)
            wake = (pipeEnds[0], pipeEnds[1])
            let address = ListenAddress.unix(path: directory + "/s")
            try address.withSystemAddress { (address, length) throws(SystemCallError) in
                try SystemCall.bind(listener, address, length)
            }
            try #require(listen(listener, 8) == 0)
        }

        deinit {
            for fd in clients + [listener, wake.read, wake.write] { close(fd) }
            unlink(directory + "/s")
            rmdir(directory)
        }

        /// Connects a client, which waits in the backlog until accepted.
        func connectClient() throws {
            let client = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            clients.append(client)
            let address = ListenAddress.unix(path: directory + "/s")
            try address.withSystemAddress { (address, length) throws(SystemCallError) in
                try SystemCall.connect(client, address, length)
            }
        }

        /// What the shutdown handler does.
        func beginShutdown() {
            var byte: UInt8 = 1
            #expect(write(wake.write, &byte, 1) == 1)
        }
    }

    @Test func connectionAloneIsTakenAndWakeAloneStops() throws {
        let sockets = try Sockets()
        let poller = try AcceptPoller(listenFD: sockets.listener, wakeFD: sockets.wake.read)
        try sockets.connectClient()
        #expect(poller.wait() == .connectionWaiting)
        let accepted = accept(sockets.listener, nil, nil)
        #expect(accepted >= 0)
        close(accepted)
        sockets.beginShutdown()
        #expect(poller.wait() == .shutdown)
    }

    /// A connection that arrives as shutdown begins is still taken by the thread that sees both. With EPOLLEXCLUSIVE
    /// the kernel may have woken that thread alone for it: the CI run that found this lost two callbacks through
    /// nginx for 10 s after a reload, when every client waited on a connection that nothing would accept.
    @Test func connectionWinsOverShutdown() throws {
        let sockets = try Sockets()
        let poller = try AcceptPoller(listenFD: sockets.listener, wakeFD: sockets.wake.read)
        sockets.beginShutdown()
        try sockets.connectClient()
        #expect(poller.wait() == .connectionWaiting)
        let accepted = accept(sockets.listener, nil, nil)
        #expect(accepted >= 0)
        close(accepted)
        #expect(poller.wait() == .shutdown)
    }
}
