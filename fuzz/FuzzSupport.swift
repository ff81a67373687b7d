// Helpers shared by the fuzz targets. Each target is compiled together with Sources/OAuthForward into one module,
// so internal library symbols are in reach and nothing here imports the library. (`swift test` builds this file and
// ForwarderFuzz.swift as the FuzzSeedTests target, where ForwarderFuzz.swift imports the library.)

/// Stops the run with a message libFuzzer prints next to the crashing input. `fatalError` traps, and the trap is
/// what tells libFuzzer this input broke an invariant.
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition {
        fatalError("invariant broken: \(message())")
    }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Bytes as text a human can read in a crash message: printable ASCII as is, the rest as \xNN.
func escaped(_ value: some Collection<UInt8>, limit: Int = 300) -> String {
    var text = ""
    for byte in value.prefix(limit) {
        if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\\") {
            text.append(Character(Unicode.Scalar(byte)))
        } else {
            text += "\\x" + hex(byte)
        }
    }
    return value.count > limit ? text + "...(\(value.count) bytes)" : text
}

func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
}

/// True when `needle` occurs in `haystack` as a contiguous run. An empty needle occurs everywhere.
func occurs(_ needle: [UInt8], in haystack: [UInt8]) -> Bool {
    guard !needle.isEmpty else { return true }
    guard needle.count <= haystack.count else { return false }
    for start in 0...(haystack.count - needle.count)
    where haystack[start] == needle[0] && haystack[start..<(start + needle.count)].elementsEqual(needle) {
        return true
    }
    return false
}

/// Splits at every occurrence of `separator` (two bytes or more), keeping empty pieces.
func splitBytes(_ value: [UInt8], at separator: [UInt8]) -> [[UInt8]] {
    var pieces: [[UInt8]] = []
    var current: [UInt8] = []
    var index = 0
    while index < value.count {
        if value[index] == separator[0] && index + separator.count <= value.count
            && value[index..<(index + separator.count)].elementsEqual(separator)
        {
            pieces.append(current)
            current = []
            index += separator.count
        } else {
            current.append(value[index])
            index += 1
        }
    }
    pieces.append(current)
    return pieces
}

/// base64url without padding, as JWTs carry their parts. Written here, not taken from the library, so a decoding
/// bug there cannot hide behind the same bug in the harness.
func base64URLEncoded(_ value: [UInt8]) -> [UInt8] {
    let alphabet = bytes("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    var encoded: [UInt8] = []
    var index = 0
    while index < value.count {
        let chunk = value[index..<min(index + 3, value.count)]
        var group: UInt32 = 0
        for (offset, byte) in chunk.enumerated() { group |= UInt32(byte) << (16 - 8 * UInt32(offset)) }
        for position in 0...chunk.count { encoded.append(alphabet[Int(group >> (18 - 6 * UInt32(position))) & 63]) }
        index += 3
    }
    return encoded
}

/// The Link API audiences Junction's tokens carry, per environment, written out here from the README's table
/// rather than read from the library.
let junctionAudiences: [String: [String]] = [
    "sandbox-us": ["https://api.sandbox.us.junction.com/v2/link", "https://api.sandbox.tryvital.io/v2/link"],
    "sandbox-eu": ["https://api.sandbox.eu.junction.com/v2/link", "https://api.sandbox.eu.tryvital.io/v2/link"],
    "production-us": ["https://api.us.junction.com/v2/link", "https://api.tryvital.io/v2/link"],
    "production-eu": ["https://api.eu.junction.com/v2/link", "https://api.eu.tryvital.io/v2/link"],
]

/// Where each environment's callbacks go, from the README's preset table.
let junctionCallbacks: [String: String] = [
    "sandbox-us": "https://api.sandbox.us.junction.com/v2/link/connect/{provider}",
    "sandbox-eu": "https://api.sandbox.eu.junction.com/v2/link/connect/{provider}",
    "production-us": "https://api.us.junction.com/v2/link/connect/{provider}",
    "production-eu": "https://api.eu.junction.com/v2/link/connect/{provider}",
]

/// A JWT header as Junction's tokens start, base64url-encoded.
let jwtHeader = base64URLEncoded(bytes(#"{"alg":"HS256","typ":"JWT"}"#))

/// Reads the fuzzer's bytes front to back; running out yields zeros and empty slices, never a trap.
struct ByteReader {
    let input: [UInt8]
    var position = 0

    init(_ input: [UInt8]) { self.input = input }

    mutating func byte() -> UInt8 {
        guard position < input.count else { return 0 }
        defer { position += 1 }
        return input[position]
    }

    /// A length byte, then that many bytes (fewer when the input ends first).
    mutating func chunk() -> [UInt8] {
        let count = Int(byte())
        let end = min(position + count, input.count)
        defer { position = end }
        return Array(input[position..<end])
    }

    mutating func rest() -> [UInt8] {
        defer { position = input.count }
        return Array(input[min(position, input.count)...])
    }
}
