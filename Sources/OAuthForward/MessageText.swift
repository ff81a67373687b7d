/// Text from outside the program (the environment, a file, a handover) as an error message may quote it: each
/// control byte (0x00 to 0x1F and 0x7F) written as `\xNN`, as the logfmt writer writes it, so that a CR or a newline
/// in a value can neither end a line of the journal nor forge one. Every other byte is kept.
package enum MessageText {
    package static func escaped(_ value: some StringProtocol) -> String {
        guard value.utf8.contains(where: isControl) else { return String(value) }
        var bytes: [UInt8] = []
        for byte in value.utf8 {
            if isControl(byte) { bytes += hexEscape(byte) } else { bytes.append(byte) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `\xNN`, two lower-case hex digits: how both error messages and log lines write a byte they cannot show.
    static func hexEscape(_ byte: UInt8) -> [UInt8] {
        let digits = Array("0123456789abcdef".utf8)
        return [UInt8(ascii: "\\"), UInt8(ascii: "x"), digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
    }

    private static func isControl(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x7F }
}
