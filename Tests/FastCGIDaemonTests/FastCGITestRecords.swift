/// A record as the FastCGI specification lays it out, built by hand here, apart from the code under test.
func record(_ type: UInt8, id: UInt16 = 1, _ content: [UInt8], padding: Int = 0) -> [UInt8] {
    [1, type, UInt8(id >> 8), UInt8(id & 0xFF), UInt8(content.count >> 8), UInt8(content.count & 0xFF)]
        + [UInt8(padding), 0] + content + [UInt8](repeating: 0xEE, count: padding)
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
