/// Keras `SimpleRNN`: h_t = activation(x_t·kernel + h_{t-1}·recurrent_kernel + bias).
/// Weights: kernel [I, U], recurrent_kernel [U, U], bias [U]. Params U·(I+U+1).
public struct SimpleRNN: RecurrentLayerDefinition {
    public static let className = "SimpleRNN"
    public static let gateCount = 1
    public static let stateCount = 1
    public var options: RecurrentOptions

    public init(config: KerasConfig) throws {
        options = try RecurrentOptions(config: config, hasGates: false)
    }
}

extension SimpleRNN {
    public func step(_ buffers: StepBuffers, weights: CellWeights) {
        let count = buffers.batch * buffers.units
        buffers.states.update(from: buffers.gates, count: count)
        options.activation.apply(buffers.states, count: count)
    }
}
