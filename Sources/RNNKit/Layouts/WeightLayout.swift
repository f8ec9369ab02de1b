/// How a layer's weights are named and arranged when they leave (or enter) RNNKit. The tensor
/// names and shapes of each layout are a public contract, described in layouts.md; every
/// conversion between layouts is exact (the same float32 values, permuted and transposed).
///
/// Notation: `I` input features, `H` units, `G` gates (SimpleRNN 1, LSTM 4, GRU 3).
public enum WeightLayout: String, CaseIterable, Sendable {
    /// Keras's own tensors: `kernel` [I, G·H], `recurrent_kernel` [H, G·H], `bias` [G·H]
    /// (GRU reset_after: [2, G·H]); LSTM gates i, f, c, o; GRU z, r, h.
    case keras
    /// One textbook matrix per gate, `h = f(W·x + U·h + b)`: `W_i` [H, I], `U_i` [H, H], `b_i` [H]…
    case split
    /// torch.nn.RNN / LSTM / GRU parameters (`weight_ih_l0` [G·H, I]…), Linear and Embedding
    /// `weight`; LSTM gates i, f, g, o; GRU r, z, n.
    case pytorch
    /// The inputs of the ONNX RNN / LSTM / GRU operators: `W` [dirs, G·H, I], `R` [dirs, G·H, H],
    /// `B` [dirs, 2·G·H]; LSTM gates i, o, f, c; GRU z, r, h.
    case onnx
}
