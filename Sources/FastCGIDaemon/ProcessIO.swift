#if canImport(Glibc)
import Glibc
#endif

/// The few system calls the executable makes, with their retry rules in one place.
package enum ProcessIO {
    /// The bytes of an environment variable, exactly as the process received them.
    package static func environment(_ name: String) -> [UInt8]? {
        guard let value = getenv(name) else { return nil }
        return bytes(ofCString: value)
    }

    /// The raw bytes of the command-line argument that ArgumentParser read as `parsed`: the last argument that
    /// decodes to it. ArgumentParser's `String` has invalid UTF-8 replaced by U+FFFD, which changes the bytes.
    package static func rawArgument(decodingTo parsed: String) -> [UInt8] {
        let arguments = (0..<Int(CommandLine.argc)).compactMap {
            CommandLine.unsafeArgv[$0].map { bytes(ofCString: $0) }
        }
        return arguments.last { String(decoding: $0, as: UTF8.self) == parsed } ?? Array(parsed.utf8)
    }

    package static func bytes(ofCString pointer: UnsafePointer<CChar>) -> [UInt8] {
        let count = strlen(pointer)
        return pointer.withMemoryRebound(to: UInt8.self, capacity: count) {
            Array(UnsafeBufferPointer(start: $0, count: count))
        }
    }

    /// Writes all of `bytes` to `fd`, riding out partial writes and signals. Returns false when the peer is gone.
    @discardableResult
    package static func writeAll(_ bytes: [UInt8], to fd: Int32) -> Bool {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }

    package static func writeAll(_ text: String, to fd: Int32) {
        writeAll(Array(text.utf8), to: fd)
    }

    /// Reads and discards up to `limit` bytes from `fd`, stopping early at end of file or on an error.
    static func discard(upTo limit: Int, from fd: Int32) {
        var remaining = limit
        withUnsafeTemporaryAllocation(byteCount: 16384, alignment: 1) { buffer in
            while remaining > 0 {
                let count = read(fd, buffer.baseAddress!, min(remaining, buffer.count))
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { return }
                remaining -= count
            }
        }
    }
}
