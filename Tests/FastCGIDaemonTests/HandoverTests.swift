import FastCGIDaemon
import Foundation
import Testing

@Suite struct HandoverTests {
    static let socket = FileIdentity(device: 8, inode: 4113)

    @Test func roundTrips() {
        for handover in [
            Handover(
                supervisor: 100, listenFD: 3, listenSocket: Self.socket,
                socketFile: FileIdentity(device: 2049, inode: 7),
                configFD: 5, imageFD: 6, workers: [101, 102], retiring: [98, 99], version: "0.2.0"),
            Handover(
                supervisor: 1, listenFD: 0, listenSocket: Self.socket, socketFile: nil, configFD: nil, imageFD: nil,
                workers: [],
                retiring: [], version: "1.0.0-rc1"),
        ] {
            #expect(Handover(decoding: handover.encoded) == handover)
        }
        let handover = Handover(
            supervisor: 100, listenFD: 3, listenSocket: Self.socket, socketFile: nil, configFD: nil, imageFD: nil,
            workers: [7, 8],
            retiring: [6], version: "0.2.0")
        #expect(
            handover.encoded
                == "supervisor=100 listen-fd=3 listen-socket=8:4113 socket-file=- config-fd=- image-fd=- workers=7,8 "
                + "retiring=6 "
                + "version=0.2.0")
    }

    static let valid =
        "supervisor=100 listen-fd=3 listen-socket=8:4113 socket-file=- config-fd=- image-fd=- workers=7 retiring= "

    /// The valid form with one thing changed: each of them breaks it.
    static let broken: [String] = {
        let replacements: [(String, String)] = [
            ("supervisor=100", "supervisor=0"), ("supervisor=100", "supervisor=-4"), ("listen-fd=3", "listen-fd=-1"),
            ("listen-fd=3", "listen-fd=x"), ("8:4113", "8"), ("8:4113", "-"), ("socket-file=-", "socket-file="),
            ("config-fd=-", "config-fd="), ("image-fd=-", "image-fd=x"), ("workers=7", "workers=7,,8"),
            ("workers=7", "workers=0"), ("workers=7", "workers=7,"), ("retiring=", "retiring=7"), (" ", "  "),
        ]
        return ["", "listen-fd=3 workers=1 version=0.2.0", valid + "version=", valid + "version=1 extra=2"]
            + replacements.map { valid.replacingOccurrences(of: $0.0, with: $0.1) + "version=1" }
            + [valid.replacingOccurrences(of: "supervisor=100 ", with: "") + "supervisor=100 version=1"]
            + [valid + "version=1\nx"]
    }()

    @Test(arguments: broken)
    func refusesAnythingElse(_ text: String) {
        #expect(Handover(decoding: text) == nil)
    }

    /// A handover made for another process is refused before anything else is looked at.
    @Test func anotherProcesssHandoverIsRefused() {
        let handover = Handover(
            supervisor: getpid() + 1, listenFD: 0, listenSocket: Self.socket, socketFile: nil, configFD: nil,
            imageFD: nil,
            workers: [], retiring: [], version: "1")
        #expect(handover.problem()?.hasPrefix("it was made for process") == true)
    }
}
