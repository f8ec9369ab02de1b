extension Float {
    /// The float32 value of an IEEE 754 binary16 bit pattern (NumPy `<f2`, safetensors `F16`).
    ///
    /// Exact: every half value is a float value. NaNs keep their sign and payload bit for bit,
    /// signalling ones included; `Float(Float16(bitPattern:))` would set their quiet bit, so
    /// readers convert with this instead and a file's bits come through unchanged.
    init(halfBitPattern half: UInt16) {
        let sign = UInt32(half & 0x8000) << 16
        let exponent = UInt32(half >> 10) & 0x1F
        let mantissa = UInt32(half & 0x3FF)
        switch exponent {
        case 0:  // zero or subnormal: mantissa × 2^-24, exact in float32
            self.init(bitPattern: (Float(mantissa) * 0x1p-24).bitPattern | sign)
        case 0x1F:  // infinity or NaN
            self.init(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default:  // rebias the exponent from 15 to 127
            self.init(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }
}
