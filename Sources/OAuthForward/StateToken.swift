/// Decides where a callback goes in `auto` mode, from the `state` parameter alone.
///
/// Junction's Link Token, carried as `state`, is a JWT whose unverified `aud` claim is the Link API base URL of
/// its environment (Junction's "Sharing Credentials" guide; docs/STATE-TOKEN.md). Everything
/// here reads copies: the bytes forwarded are the query as received.
package enum StateToken {
    /// What the `state` parameter says.
    package enum Finding: Equatable, Sendable {
        /// A Junction token of this environment.
        case junction(JunctionEnvironment)
        /// Not a Junction token of an allowed environment; `why` is a fixed code for the log.
        case other(why: NotJunction)
        /// More than one `state`: two parties could read different ones, so nobody gets it.
        case duplicate
    }

    package enum NotJunction: String, Equatable, Sendable {
        case noState = "no_state"
        case notAJWT = "not_a_jwt"
        case badBase64 = "bad_base64"
        case badJSON = "bad_json"
        case noAudience = "no_aud"
        case foreignAudience = "foreign_aud"
        case environmentNotAllowed = "environment_not_allowed"
    }

    package static func find(in query: [UInt8], allowed: [JunctionEnvironment]) -> Finding {
        // Index arithmetic rather than split(): an array of slices would make the runtime build its metadata on
        // every CGI start (callgrind; scripts/test-instructions holds the budget).
        var state: ArraySlice<UInt8>? = nil
        var start = query.startIndex
        while start < query.endIndex {
            let end = query[start...].firstIndex(of: UInt8(ascii: "&")) ?? query.endIndex
            let parameter = query[start..<end]
            start = end + 1
            let equals = parameter.firstIndex(of: UInt8(ascii: "="))
            let name = parameter[..<(equals ?? parameter.endIndex)]
            guard !parameter.isEmpty, percentDecoded(name)?.elementsEqual("state".utf8) == true else { continue }
            if state != nil { return .duplicate }
            state = equals.map { parameter[($0 + 1)...] } ?? []
        }
        guard let state else { return .other(why: .noState) }
        guard let token = percentDecoded(state) else { return .other(why: .notAJWT) }
        // header.payload.signature: exactly two dots, the first two parts not empty.
        guard let firstDot = token.firstIndex(of: UInt8(ascii: ".")),
            let secondDot = token[(firstDot + 1)...].firstIndex(of: UInt8(ascii: ".")),
            !token[(secondDot + 1)...].contains(UInt8(ascii: ".")),
            firstDot > token.startIndex, secondDot > firstDot + 1
        else { return .other(why: .notAJWT) }
        guard let payload = base64URLDecoded(token[(firstDot + 1)..<secondDot]) else { return .other(why: .badBase64) }
        let audience: [UInt8]
        switch JSONAudience.read(payload) {
        case .malformed: return .other(why: .badJSON)
        case .noAudience: return .other(why: .noAudience)
        case .audience(let value): audience = value
        }
        guard let environment = JunctionEnvironment(linkAudience: audience) else {
            return .other(why: .foreignAudience)
        }
        return allowed.contains(environment) ? .junction(environment) : .other(why: .environmentNotAllowed)
    }

    /// Form decoding for reading: `%XX` to its byte and `+` to a space. Nil for a broken `%` escape. Written here:
    /// Foundation's decoder works on `String`, which would cost a CGI start Foundation and repair bytes.
    static func percentDecoded(_ bytes: some Collection<UInt8>) -> [UInt8]? {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var iterator = bytes.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue)
                else { return nil }
                decoded.append(high << 4 | low)
            case UInt8(ascii: "+"):
                decoded.append(UInt8(ascii: " "))
            default:
                decoded.append(byte)
            }
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// base64url (RFC 4648 section 5), padding optional. Nil for any other byte, misplaced padding, an impossible
    /// length, or stray bits in the last character. Written here: Foundation's `Data(base64Encoded:)` takes neither
    /// the URL alphabet nor missing padding, and linking Foundation costs every CGI start; the fuzzer checks it.
    static func base64URLDecoded(_ text: some Collection<UInt8>) -> [UInt8]? {
        var body = Array(text)
        var padding = 0
        while body.last == UInt8(ascii: "=") {
            body.removeLast()
            padding += 1
        }
        guard padding == 0 || (padding <= 2 && (body.count + padding) % 4 == 0), body.count % 4 != 1 else {
            return nil
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(body.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in body {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            default: return nil
            }
            buffer = buffer << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                decoded.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        // The leftover bits of a shortened last group must be zero in a canonical encoding.
        guard buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return decoded
    }
}
