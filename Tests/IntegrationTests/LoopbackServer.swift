import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ServerProcess {
    /// Renders a configuration for a fresh loopback port and starts the server on it, until it listens there.
    /// Another test may take the port between the probe and the server's bind: then it tries again with a new one.
    static func startOnFreePort(
        render: (UInt16) throws -> Void, start: () throws -> ServerProcess, diagnostics: () -> String = { "" }
    ) throws -> (server: ServerProcess, port: UInt16) {
        var attempt = 0
        while true {
            attempt += 1
            let port = try HTTPClient.freeLoopbackPort()
            try render(port)
            let server = try start()
            do {
                try server.waitUntilListening(port: port, diagnostics: diagnostics)
                return (server, port)
            } catch  where attempt < 3 && "\(error)".lowercased().contains("address already in use") {
                continue
            }
        }
    }
}

extension Callbacks {
    /// Methods other than GET, HEAD and POST: the program's 405, with its Allow field.
    static func expectMethodNotAllowed(port: UInt16, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for method in ["PUT", "DELETE", "PATCH", "OPTIONS"] {
            let response = try HTTPClient.exchange(
                HTTPClient.request(method, bytes("/oauth_callback/oura?code=1")), port: port)
            #expect(
                response.statusLine == "HTTP/1.1 405 Method Not Allowed", "\(method)\n\(response)",
                sourceLocation: sourceLocation)
            #expect(response.value(of: "Allow") == bytes("GET, HEAD, POST"), sourceLocation: sourceLocation)
            #expect(response.value(of: "Location") == nil, sourceLocation: sourceLocation)
        }
    }

    /// For a server that answers a raw control byte in the request line 400 itself (Caddy's Go server, H2O): no
    /// `Location` for those, and an encoded one reaches the program and is forwarded as it came.
    static func expectRawControlBytesRefusedByTheServer(
        port: UInt16, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        for control: UInt8 in [0x01, 0x09, 0x7F] {
            let response = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/oura?code=a") + [control] + bytes("b")), port: port)
            #expect(
                response.statusLine == "HTTP/1.1 400 Bad Request", "\(control)\n\(response)",
                sourceLocation: sourceLocation)
            #expect(response.value(of: "Location") == nil, sourceLocation: sourceLocation)
        }
        let encoded = try HTTPClient.exchange(
            HTTPClient.request("GET", bytes("/oauth_callback/oura?code=a%01b")), port: port)
        expectRedirect(
            encoded, to: bytes(production + "oura?code=a%01b"), "an encoded 0x01", sourceLocation: sourceLocation)
    }

    /// The queries of the table without the raw bytes 0x80 and above, for a server that refuses those itself.
    static let asciiQueries = queries.filter { $0.query.allSatisfy { $0 < 0x80 } }

    /// The raw bytes case of the table, `state=` and 0x80 to 0xFF.
    static let rawByteQuery = queries.first { !$0.query.allSatisfy { $0 < 0x80 } }!.query

    /// The program's line for `secretTarget` through the production path: the query's length, never the query.
    static let secretTargetLogLine = "method=GET provider=oura status=307 target=production-us query_bytes=33"

    /// No file in `directory` holds the sentinel of `secretTarget`.
    static func expectNoSecret(inFilesOf directory: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for file in try FileManager.default.contentsOfDirectory(atPath: directory) {
            let text = readText(directory + "/" + file)
            #expect(!text.contains("SECRET"), "\(file) holds the query:\n\(text)", sourceLocation: sourceLocation)
        }
    }
}
