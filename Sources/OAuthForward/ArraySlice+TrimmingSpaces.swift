extension ArraySlice<UInt8> {
    /// Without leading and trailing spaces. On bytes and by index: the same on `String` through `reversed()`
    /// ran as generic code, about a million instructions per CGI start (callgrind, scripts/test-instructions).
    var trimmingSpaces: ArraySlice<UInt8> {
        var slice = self
        while slice.first == UInt8(ascii: " ") { slice = slice.dropFirst() }
        while slice.last == UInt8(ascii: " ") { slice = slice.dropLast() }
        return slice
    }
}
