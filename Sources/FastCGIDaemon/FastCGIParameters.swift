internal import CFastCGI

#if canImport(Glibc)
import Glibc
#endif

/// A request's parameters as libfcgi holds them: `NAME=value` C strings, in the array `FCGX_Request.envp`.
enum FastCGIParameters {
    /// The value of `name`, copied out, or nil when the request has no such parameter.
    ///
    /// Compares bytes in place: `FCGX_GetParam(name, envp)` made each lookup convert the Swift `String` into a new C
    /// string, an allocation, before libfcgi's `strncmp` of every parameter: with the nine lookups of a request,
    /// about 6,000 of the daemon's 51,000 instructions per request (callgrind of a worker under nginx, keep-alive).
    static func value(of name: String, in parameters: FCGX_ParamArray?) -> [UInt8]? {
        guard var entry = parameters else { return nil }
        var name = name
        return name.withUTF8 { key -> [UInt8]? in
            guard let first = key.first else { return nil }
            while let parameter = entry.pointee {
                let bytes = UnsafeRawPointer(parameter).assumingMemoryBound(to: UInt8.self)
                // A parameter shorter than the name ends in its NUL, which differs from every byte of the name.
                if bytes[0] == first, matches(key, bytes) {
                    let value = bytes + key.count + 1
                    return Array(UnsafeBufferPointer(start: value, count: strlen(parameter + key.count + 1)))
                }
                entry += 1
            }
            return nil
        }
    }

    /// Whether `bytes`, a C string, starts with `key` and then `=`.
    private static func matches(_ key: UnsafeBufferPointer<UInt8>, _ bytes: UnsafePointer<UInt8>) -> Bool {
        for index in key.indices where bytes[index] != key[index] { return false }
        return bytes[key.count] == UInt8(ascii: "=")
    }
}
