/// The kinds of recurrent cell whose weights RNNKit converts.
enum CellKind: Sendable {
    case simpleRNN, lstm, gru
}

/// The gate tables of keras-formats.md §6.1, the one place every layout conversion reads them.
///
/// Keras stores a cell's gates as blocks of `H` columns in its kernels: LSTM i, f, c, o and
/// GRU z, r, h. A target layout orders its gate blocks differently; `permutation` gives, for
/// each target gate q, the Keras block π(q) that feeds it, so that every mapping reads
/// `Target[q·H + j, k] = K[k, π(q)·H + j]`.
enum GateOrder {
    static func gateCount(_ kind: CellKind) -> Int {
        switch kind {
        case .simpleRNN: 1
        case .lstm: 4
        case .gru: 3
        }
    }

    /// The gates in Keras order, by the names the split layout gives them (`W_i`, `b_z`…).
    /// A SimpleRNN has one unnamed block (`W`, `U`, `b`).
    static func kerasGates(_ kind: CellKind) -> [String] {
        switch kind {
        case .simpleRNN: [""]
        case .lstm: ["i", "f", "c", "o"]
        case .gru: ["z", "r", "h"]
        }
    }

    /// π for `layout`: target gate q is fed by Keras block `permutation[q]`.
    ///
    /// | | keras, split | pytorch | onnx |
    /// |---|---|---|---|
    /// | LSTM | i, f, c, o | i, f, g, o: [0,1,2,3] | i, o, f, c: [0,3,1,2] |
    /// | GRU | z, r, h | r, z, n: [1,0,2] | z, r, h: [0,1,2] |
    static func permutation(_ kind: CellKind, _ layout: WeightLayout) -> [Int] {
        switch (kind, layout) {
        case (.lstm, .onnx): [0, 3, 1, 2]
        case (.gru, .pytorch): [1, 0, 2]
        default: Array(0..<gateCount(kind))
        }
    }
}
