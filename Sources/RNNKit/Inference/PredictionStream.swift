import Foundation

/// Runs a unidirectional model one time step (or chunk of steps) at a time, carrying every
/// recurrent layer's state from one call to the next. Feeding a sequence in chunks gives the
/// same outputs as one whole-sequence `predict`: sequence outputs chunk by chunk, last-step
/// outputs as of the end of the latest chunk.
///
/// This is also how Keras runs a stateful model (`stateful=True`): each call goes on from the
/// states the previous one left, while a `Predictor` starts every prediction from zero states.
///
/// A stream belongs to one caller (it is not for concurrent use); make one per sequence.
public final class PredictionStream {
    /// The predictor whose model the stream runs.
    public let predictor: Predictor
    private var carries: [String: RecurrentCarry]? = [:]
    private var batchSize: Int?

    /// Refuses models whose outputs need the whole sequence at once: Bidirectional layers,
    /// go_backwards, initial states from other layers, pooling, convolving, reshaping or
    /// flattening over time, RepeatVector, and softmax or normalization along the time axis.
    public init(_ predictor: Predictor) throws {
        self.predictor = predictor
        let analysis = GraphAnalysis(predictor.model)
        for (index, layer) in predictor.model.layers.enumerated() {
            guard let kind = layer.kind else { continue }
            var reason: String?
            // Normalizing or taking a softmax along time (axis 1 of a sequence) needs every step.
            let rank = analysis.inputShapes(ofLayer: index, in: predictor.model)?.first?.count ?? 0
            func alongTime(_ axes: [Int]) -> Bool {
                rank >= 3 && axes.contains { ($0 < 0 ? rank + $0 : $0) == 1 }
            }
            switch kind {
            case .recurrent,
                 .rnn:
                if kind.recurrentOptions?.goBackwards == true { reason = "it runs backwards in time" }
                if layer.nodes.contains(where: { $0.inputs.count > 1 }) {
                    reason = "its initial state comes from another layer"
                }
                if layer.nodes.count > 1 { reason = "it is called more than once" }
            case .softmax(let softmax) where alongTime([softmax.axis]):
                reason = "Softmax along the time axis needs the whole sequence"
            case .batchNormalization(let norm) where alongTime([norm.axis]):
                reason = "BatchNormalization along the time axis needs the whole sequence"
            case .layerNormalization(let norm) where alongTime(norm.axes):
                reason = "LayerNormalization over the time axis needs the whole sequence"
            case .unitNormalization(let norm) where alongTime(norm.axes):
                reason = "UnitNormalization over the time axis needs the whole sequence"
            case .prelu(let prelu) where rank >= 3 && !prelu.sharedAxes.contains(1):
                reason = "PReLU with an alpha per time step needs the whole sequence"
            case .dot:
                reason = "Dot needs the whole sequence"
            case .bidirectional, .repeatVector, .flatten, .reshape, .permute, .timeResampling, .globalAveragePooling1D, .globalMaxPooling1D, .conv1D,
                 .maxPooling1D, .averagePooling1D:
                reason = "\(layer.className) needs the whole sequence"
            case .attention,
                 .multiHeadAttention:
                reason = "\(layer.className) attends over the whole value sequence"
            case .conv2D,
                 .maxPooling2D,
                 .averagePooling2D,
                 .globalAveragePooling2D,
                 .globalMaxPooling2D,
                 .imageBorder2D,
                 .depthwiseConvolution:
                reason = "\(layer.className) needs the whole image"
            case .input, .dense, .embedding, .timeDistributed, .masking, .dropout, .spatialDropout1D, .gaussianNoise,
                 .activation, .concatenate, .merge, .batchNormalization, .layerNormalization,
                 .relu, .leakyReLU, .elu, .softmax,
                 .unitNormalization,
                 .prelu:
                break
            case .operation(let operation) where !operation.function.isStepwise:
                reason = "operation \(operation.kerasClassName) may need the whole sequence"
            case .operation:
                break
            case .convLSTM:
                reason = "\(layer.className) is not streamed (its states are images)"
            }
            if let reason {
                throw RNNKitError(.badUsage, "cannot stream this model: layer '\(layer.name)': \(reason)")
            }
        }
    }

    /// Feeds the next chunk ([B, t, features] per input) and returns the model's outputs for it.
    public func feed(_ inputs: [Tensor]) throws -> [Tensor] {
        if let batchSize, let first = inputs.first, first.shape.first != batchSize {
            throw RNNKitError(.badUsage, "this stream runs batches of \(batchSize), got \(first.shape.first ?? 0)")
        }
        let outputs = try predictor.run(inputs, carries: &carries)
        batchSize = inputs.first?.shape.first
        return outputs
    }

    /// Starts a new sequence.
    public func reset() {
        carries = [:]
        batchSize = nil
    }
}
