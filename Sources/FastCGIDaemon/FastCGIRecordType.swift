/// The record types of FastCGI 1.0 that a web server's side of a connection sends or reads.
package enum FastCGIRecordType: UInt8, Sendable {
    case beginRequest = 1
    case endRequest = 3
    case params = 4
    case stdin = 5
    case stdout = 6
    case stderr = 7

    /// Every record starts with this version byte.
    package static let version: UInt8 = 1
    /// A record's header: version, type, request id, content length, padding length, a reserved byte.
    package static let headerLength = 8
}
