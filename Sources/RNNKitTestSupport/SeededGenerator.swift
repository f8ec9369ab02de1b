/// A small deterministic random number generator for tests (SplitMix64), so that a failure
/// seen once is seen again: print `seed` (its `description`) in every failure message.
/// Swift's own generator and hashing are seeded per process, so they cannot be used for this.
public struct SeededGenerator: RandomNumberGenerator, CustomStringConvertible {
    /// The seed the sequence started from.
    public let seed: UInt64
    private var state: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        state = seed
    }

    /// Seeded from a name (FNV-1a of its UTF-8 bytes), e.g. "flip simple_rnn/keras3.h5".
    public init(seed name: String) {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        self.init(seed: hash)
    }

    public var description: String { "seed \(seed)" }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in 0..<bound (0 when bound is 0), the same on every platform (unlike
    /// `next(upperBound:)`, whose rejection sampling is an implementation detail).
    public mutating func next(below bound: UInt64) -> UInt64 { bound == 0 ? 0 : next() % bound }
}
