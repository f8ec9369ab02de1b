import RNNKit

extension Tensor {
    /// Time step `step` of every row of this [B, T, F] sequence, as [B, 1, F]: what a stream is fed
    /// when a sequence arrives one step at a time.
    public func timeStep(_ step: Int) -> Tensor {
        let (batch, steps, features) = (shape[0], shape[1], shape[2])
        var scalars: [Float] = []
        scalars.reserveCapacity(batch * features)
        for row in 0..<batch {
            let start = (row * steps + step) * features
            scalars += self.scalars[start..<start + features]
        }
        return Tensor(shape: [batch, 1, features], scalars: scalars)
    }
}
