/// The gate tables of docs/layouts.md, the one place every layout conversion reads them.
///
/// Keras stores a cell's gates as blocks of `H` columns in its kernels: LSTM i, f, c, o and
/// GRU z, r, h. A target layout orders its gate blocks differently; `permutation` gives, for
/// each target gate q, the Keras block π(q) that feeds it, so that every mapping reads
/// `Target[q·H + j, k] = K[k, π(q)·H + j]`.
enum GateOrder {
    /// π for `layout`: target gate q is fed by Keras block `permutation[q]`.
    ///
    /// | | keras, split | pytorch | onnx |
    /// |---|---|---|---|
    /// | LSTM | i, f, c, o | i, f, g, o: [0,1,2,3] | i, o, f, c: [0,3,1,2] |
    /// | GRU | z, r, h | r, z, n: [1,0,2] | z, r, h: [0,1,2] |
    static func permutation(_ cell: RecurrentLayer.Cell, _ layout: WeightLayout) -> [Int] {
        switch cell {
        case .simpleRNN: [0]
        case .lstm: layout == .onnx ? [0, 3, 1, 2] : [0, 1, 2, 3]
        case .gru: layout == .pytorch ? [1, 0, 2] : [0, 1, 2]
        }
    }
}
