/// One request as a web server sends it over FastCGI 1.0: BEGIN_REQUEST for the responder role, without keeping the
/// connection, the parameters as name-value pairs in PARAMS records and an empty PARAMS to end them, then an empty
/// STDIN, since there is no body.
package struct FastCGIRequest: Sendable {
    /// The one request on the connection.
    package static let requestID: UInt16 = 1

    package var parameters: [(name: [UInt8], value: [UInt8])]

    package init(parameters: [(name: [UInt8], value: [UInt8])]) {
        self.parameters = parameters
    }

    package var bytes: [UInt8] {
        let responder: [UInt8] = [0, 1]
        var stream = Self.record(.beginRequest, responder + [0, 0, 0, 0, 0, 0])
        var pairs: [UInt8] = []
        for (name, value) in parameters {
            pairs += Self.length(name.count) + Self.length(value.count) + name + value
        }
        var offset = 0
        while offset < pairs.count {
            let end = min(offset + Int(UInt16.max), pairs.count)
            stream += Self.record(.params, pairs[offset..<end])
            offset = end
        }
        return stream + Self.record(.params, []) + Self.record(.stdin, [])
    }

    /// A length in a name-value pair: one byte below 128, else four with the top bit set.
    static func length(_ count: Int) -> [UInt8] {
        precondition(count < 1 << 31, "a FastCGI name or value is shorter than 2 GiB")
        if count < 128 { return [UInt8(count)] }
        return [
            UInt8(count >> 24) | 0x80, UInt8(truncatingIfNeeded: count >> 16), UInt8(truncatingIfNeeded: count >> 8),
            UInt8(truncatingIfNeeded: count),
        ]
    }

    /// A record padded to a multiple of 8 bytes, as the specification recommends and nginx does.
    static func record(_ type: FastCGIRecordType, _ content: some Collection<UInt8>) -> [UInt8] {
        precondition(content.count <= Int(UInt16.max))
        let padding = (8 - content.count % 8) % 8
        let header: [UInt8] = [
            FastCGIRecordType.version, type.rawValue, UInt8(requestID >> 8), UInt8(requestID & 0xFF),
            UInt8(content.count >> 8), UInt8(content.count & 0xFF), UInt8(padding), 0,
        ]
        return header + content + [UInt8](repeating: 0, count: padding)
    }
}
