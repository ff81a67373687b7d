/// The address inside the brackets of an IP literal (RFC 3986 section 3.2.2, `IPv6address`), checked as glibc's
/// inet_pton(AF_INET6) checks it: eight groups of one to four hex digits, one `::` at most standing for one or more
/// of them, and optionally a dotted IPv4 address as the last two. Written here, not called, because the request
/// contract calls no C; `TargetTests` checks the two agree.
enum IPv6Literal {
    static func isValid(_ bytes: some Collection<UInt8>) -> Bool {
        let text = Array(bytes)
        guard !text.isEmpty else { return false }
        var groups = 0
        var compressed = false
        var index = 0
        // A leading "::" is the only place a group may be empty at the start.
        if text.starts(with: [UInt8(ascii: ":"), UInt8(ascii: ":")]) {
            compressed = true
            index = 2
            if index == text.count { return true }
        } else if text[0] == UInt8(ascii: ":") {
            return false
        }
        while index < text.count {
            var end = index
            while end < text.count, text[end] != UInt8(ascii: ":") { end += 1 }
            let group = text[index..<end]
            if end == text.count, group.contains(UInt8(ascii: ".")) {
                // The last part may be an IPv4 address, which counts as two groups.
                guard isIPv4(group) else { return false }
                groups += 2
                break
            }
            guard (1...4).contains(group.count), group.allSatisfy(\.isASCIIHexDigit) else { return false }
            groups += 1
            if end == text.count { break }
            // A colon: either a separator, or the first of a "::".
            index = end + 1
            if index < text.count, text[index] == UInt8(ascii: ":") {
                guard !compressed else { return false }
                compressed = true
                index += 1
                if index == text.count { break }
            } else if index == text.count {
                return false
            }
        }
        return compressed ? groups <= 7 : groups == 8
    }

    /// Four decimal numbers from 0 to 255 without leading zeros, as inet_pton(AF_INET) takes them.
    static func isIPv4(_ bytes: some Collection<UInt8>) -> Bool {
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                guard (1...3).contains(part.count), part.allSatisfy(\.isASCIIDigit) else { return false }
                guard part.count == 1 || part.first != UInt8(ascii: "0") else { return false }
                return part.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) } <= 255
            }
    }
}
