/// Raw access to float arrays for the kernels, which work on pointers.

/// The address of `values`' storage while `body` runs; a float of its own for an empty array
/// (whose storage has no address), which nothing reads.
func withStorage<Result>(_ values: [Float], _ body: (UnsafePointer<Float>) -> Result) -> Result {
    guard !values.isEmpty else { return [Float(0)].withUnsafeBufferPointer { body($0.baseAddress!) } }
    return values.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// A new array of `count` floats, every one of which `body` writes (not zeroed first), given
/// their address; a float of its own when `count` is 0, which nothing reads.
func filledArray(count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    guard count > 0 else {
        var unused: Float = 0
        body(&unused)
        return []
    }
    return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        body(buffer.baseAddress!)
        initialized = count
    }
}
