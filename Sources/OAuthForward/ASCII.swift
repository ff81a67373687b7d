/// The byte classes the URL rules test, in one place.
extension UInt8 {
    var isASCIIDigit: Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) }

    /// A letter of either case.
    var isASCIILetter: Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self | 0x20) }

    var isASCIIHexDigit: Bool { isASCIIDigit || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self | 0x20) }
}

extension [UInt8] {
    /// Whether any byte is a control byte: below 0x20, or DEL (0x7F). Eight bytes at a time: a query is a few
    /// hundred bytes and every callback is checked, where a byte at a time cost about 1,000 instructions per request
    /// (callgrind, the daemon behind nginx).
    ///
    /// For a word `w` and `n` at most 128, `(w - n * 0x01..01) & ~w & 0x80..80` is non-zero exactly when some byte
    /// of `w` is below `n`: "Determine if a word has a byte less than n", Sean Eron Anderson's Bit Twiddling Hacks
    /// (graphics.stanford.edu/~seander/bithacks.html). DEL is the byte that `w ^ 0x7F..7F` turns into a zero.
    var containsControlByte: Bool {
        withUnsafeBytes { raw in
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highBits: UInt64 = 0x8080_8080_8080_8080
            var offset = 0
            while offset + 8 <= raw.count {
                let word = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                let belowSpace = (word &- 0x20 &* ones) & ~word & highBits
                let delFlipped = word ^ (0x7F &* ones)
                let isDel = (delFlipped &- ones) & ~delFlipped & highBits
                if belowSpace | isDel != 0 { return true }
                offset += 8
            }
            while offset < raw.count {
                if raw[offset] < 0x20 || raw[offset] == 0x7F { return true }
                offset += 1
            }
            return false
        }
    }
}
