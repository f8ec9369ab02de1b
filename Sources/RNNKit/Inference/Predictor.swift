internal import CRNNKitKernels
import Dispatch

/// A model ready to run: checked once at creation, then `predict` as often as wanted, from any
/// number of threads at once (it holds no mutable state). Creating one tunes glibc's allocator for
/// repeated predictions, process-wide (see `reusesFreedMemory`).
public final class Predictor: Sendable {
    /// The model it runs, checked.
    public let model: Model
    /// The graph's calls in evaluation order, with their inputs and outputs resolved to slots.
    let plan: [PlannedCall]
    /// Slots of the model's outputs (nil: a reference that no call makes).
    let outputSlots: [Int?]
    let slotCount: Int

    /// What one model input expects: its InputLayer's name, shape and whether it takes token ids.
    public struct InputSpec: Sendable, Equatable {
        /// The InputLayer's name, by which named arrays are bound to it.
        public var name: String
        /// Its shape, the batch first (nil where any size goes).
        public var shape: Shape
        /// Whether it takes integer token ids (an Embedding's input) rather than floats.
        public var takesTokenIDs: Bool
    }

    /// The model's inputs, in the order ``predict(_:)`` takes them.
    public let inputSpecs: [InputSpec]
    /// The recurrent layers' kernels in the runtime's packed layout, made by the first prediction.
    let packedMatrices = PackedMatrixCache()

    /// Refuses a model with any error among its problems (see `Model.checked()`).
    public init(_ model: Model) throws {
        Self.reusesFreedMemory
        self.model = try model.checked()
        (plan, outputSlots, slotCount) = Self.makePlan(self.model)
        inputSpecs = try model.inputs.map { reference in
            guard let index = model.layerIndex(named: reference.layer),
                  let input = model.layers[index].kind?.inputLayer
            else { throw RNNKitError(.invalidModel, "model input '\(reference.layer)' is not an InputLayer") }
            return InputSpec(name: reference.layer, shape: input.batchShape, takesTokenIDs: input.takesTokenIDs)
        }
    }

    /// Threads that predictions split their work among: a recurrent layer's batch rows, a
    /// product's rows. 1 by default, for predictable latency; small work stays on one thread.
    public static var threadCount: Int {
        get { RNNKitRuntime.threadCount }
        set { RNNKitRuntime.setThreadCount(newValue) }
    }

    /// Loads the model in `path` (its weights from `weights` for an architecture JSON) and
    /// checks it.
    public convenience init(contentsOf path: String, weights: String? = nil) throws {
        try self.init(Model.load(contentsOf: path, weights: weights))
    }

    /// Runs the model on one tensor per input (in model input order; token ids as whole
    /// numbers) and returns one tensor per model output.
    ///
    /// A batch of 0 sequences gives outputs of 0 rows, as tf_keras does; their other dimensions
    /// are those of a batch of one, found by running one sequence of zeros (a valid token id too).
    public func predict(_ inputs: [Tensor]) throws -> [Tensor] {
        if !inputs.isEmpty, inputs.allSatisfy({ $0.rank > 0 && $0.shape[0] == 0 }) {
            let one = inputs.map { Tensor(zeros: [1] + $0.shape.dropFirst()) }
            return try predict(one).map { Tensor(shape: [0] + $0.shape.dropFirst(), scalars: []) }
        }
        var noCarries: [String: RecurrentCarry]?
        return try run(inputs, carries: &noCarries)
    }

    /// How long each layer call of one prediction on `inputs` takes, in the order the graph runs
    /// them (model inputs left out): where a prediction's time goes. `rnnkit bench --layers`
    /// reports their medians.
    public func layerTimes(_ inputs: [Tensor]) throws -> [(layer: String, className: String, milliseconds: Double)] {
        var times: [(layer: String, className: String, milliseconds: Double)] = []
        var noCarries: [String: RecurrentCarry]?
        _ = try run(inputs, carries: &noCarries) { layer, nanoseconds in
            times.append((layer.name, layer.className, Double(nanoseconds) / 1e6))
        }
        return times
    }

    /// Evaluates the graph. With `carries`, recurrent layers start from (and update) the state
    /// a stream carried over from its previous chunk; `timed` is told each layer call's duration.
    func run(_ inputs: [Tensor], carries: inout [String: RecurrentCarry]?,
             timed: ((ModelLayer, UInt64) -> Void)? = nil) throws -> [Tensor] {
        try PackedMatrixCache.$current.withValue(packedMatrices) {
            try evaluate(inputs, carries: &carries, timed: timed)
        }
    }

    private func evaluate(_ inputs: [Tensor], carries: inout [String: RecurrentCarry]?,
                          timed: ((ModelLayer, UInt64) -> Void)?) throws -> [Tensor] {
        // A stream's chunks may be shorter than a declared sequence length.
        try checkInputs(inputs, anyLength: carries != nil)
        var values = [LayerValue?](filledWith: nil, count: slotCount)
        for call in plan {
            if let position = call.modelInput {
                if call.outputSlotCount > 0 { values[call.firstOutputSlot] = LayerValue(inputs[position]) }
                continue
            }
            var arguments = try zip(call.inputs, call.inputSlots).map { reference, slot in
                guard let slot, let value = values[slot] else {
                    throw RNNKitError(.invalidModel, "\(call.layerName): input \(reference) was not computed")
                }
                return value
            }
            // An explicit `mask=` replaces the masks that ride along with the inputs.
            for (position, slot) in call.maskSlots.enumerated() where position < arguments.count {
                let mask = slot.flatMap { values[$0]?.tensor }
                let input = arguments[position].tensor
                // One entry per time step of the input, as GraphAnalysis checked statically.
                if let mask, input.rank < 2 || mask.shape != Array(input.shape.prefix(2)) {
                    throw RNNKitError(.invalidModel, "\(call.layerName): mask of shape \(mask.shape) does not fit "
                                      + "input shape \(input.shape)")
                }
                arguments[position].mask = mask?.scalars.map { $0 != 0 }
            }
            let result: (outputs: [LayerValue], carry: RecurrentCarry?)
            do {
                let start = timed == nil ? 0 : DispatchTime.now().uptimeNanoseconds
                result = try call.kind.forward(arguments, weights: call.weights, prepared: call.prepared,
                                               carry: carries?[call.layerName])
                timed?(model.layers[call.layer], DispatchTime.now().uptimeNanoseconds - start)
            } catch let error as RNNKitError {
                throw RNNKitError(error.kind, error.message, location: error.location ?? call.layerName)
            }
            if carries != nil, let carry = result.carry { carries?[call.layerName] = carry }
            for (index, output) in result.outputs.prefix(call.outputSlotCount).enumerated() {
                values[call.firstOutputSlot + index] = output
            }
        }
        return try zip(model.outputs, outputSlots).map { reference, slot in
            guard let slot, let value = values[slot] else {
                throw RNNKitError(.invalidModel, "model output \(reference) was not computed")
            }
            return value.tensor
        }
    }

    /// One call of a layer in the evaluation plan. A class, so that walking the plan retains one
    /// reference per call instead of copying every field (and the layer) of a struct: a
    /// prediction of a small model is a few microseconds.
    final class PlannedCall: Sendable {
        let layer: Int
        /// The layer's name and bound weights, taken from the model once.
        let layerName: String
        let weights: [String: Tensor]
        let kind: LayerKind
        /// Its weights in the forms its maths uses, made by the first prediction.
        let prepared = PreparedWeights()
        /// The model input it stands for, when the layer is one of the model's inputs.
        let modelInput: Int?
        let inputs: [TensorRef]
        /// Where each input is (nil: made by no call).
        let inputSlots: [Int?]
        /// Where each explicit mask is, one per leading input (nil: that input has no mask).
        let maskSlots: [Int?]
        /// Its outputs go to consecutive slots; only the ones something reads have a slot.
        let firstOutputSlot: Int
        let outputSlotCount: Int

        init(layer: Int, of model: Model, modelInput: Int?, inputs: [TensorRef], inputSlots: [Int?],
             maskSlots: [Int?], firstOutputSlot: Int, outputSlotCount: Int) {
            self.layer = layer
            layerName = model.layers[layer].name
            weights = model.layers[layer].weights
            kind = model.layers[layer].kind!
            self.modelInput = modelInput
            self.inputs = inputs
            self.inputSlots = inputSlots
            self.maskSlots = maskSlots
            self.firstOutputSlot = firstOutputSlot
            self.outputSlotCount = outputSlotCount
        }
    }

    /// Resolves the graph once, so that a prediction looks nothing up by name: every tensor
    /// that a call or the model's outputs read gets a slot.
    private static func makePlan(_ model: Model) -> (plan: [PlannedCall], outputSlots: [Int?], slotCount: Int) {
        let order = GraphAnalysis(model).order.filter { model.layers[$0.layer].kind != nil }
        // An InputLayer's one call has no node in the file.
        func node(of id: GraphAnalysis.NodeID) -> LayerNode {
            let nodes = model.layers[id.layer].nodes
            return nodes.indices.contains(id.node) ? nodes[id.node] : LayerNode(inputs: [])
        }
        let read = order.flatMap { node(of: $0).inputs + node(of: $0).masks.compactMap { $0 } } + model.outputs
        var slotCounts: [GraphAnalysis.NodeID: Int] = [:]
        for reference in read {
            guard let layer = model.layerIndex(named: reference.layer) else { continue }
            let id = GraphAnalysis.NodeID(layer: layer, node: reference.node)
            slotCounts[id] = max(slotCounts[id] ?? 0, reference.index + 1)
        }
        var firstSlots: [GraphAnalysis.NodeID: Int] = [:], slotCount = 0
        for id in order {
            firstSlots[id] = slotCount
            slotCount += slotCounts[id] ?? 0
        }
        func slot(of reference: TensorRef) -> Int? {
            guard let layer = model.layerIndex(named: reference.layer),
                  case let id = GraphAnalysis.NodeID(layer: layer, node: reference.node),
                  let first = firstSlots[id], reference.index < slotCounts[id] ?? 0
            else { return nil }
            return first + reference.index
        }
        let plan = order.map { id in
            let layer = model.layers[id.layer], call = node(of: id)
            return PlannedCall(layer: id.layer, of: model,
                               modelInput: model.inputs.firstIndex { $0.layer == layer.name },
                               inputs: call.inputs, inputSlots: call.inputs.map(slot(of:)),
                               maskSlots: call.masks.map { $0.flatMap(slot(of:)) },
                               firstOutputSlot: firstSlots[id]!, outputSlotCount: slotCounts[id] ?? 0)
        }
        return (plan, model.outputs.map(slot(of:)), slotCount)
    }

    /// Every input present, with the model's rank, known dimensions and one batch size.
    func checkInputs(_ inputs: [Tensor], anyLength: Bool) throws {
        guard inputs.count == inputSpecs.count else {
            throw RNNKitError(.badUsage, "the model takes \(inputSpecs.count) input(s), got \(inputs.count)")
        }
        for (spec, tensor) in zip(inputSpecs, inputs) {
            guard tensor.rank == spec.shape.count,
                  zip(spec.shape, tensor.shape).enumerated().allSatisfy({ axis, pair in
                      pair.0 == nil || pair.0 == pair.1 || (anyLength && axis == 1)
                  })
            else {
                throw RNNKitError(.badUsage, "input '\(spec.name)' expects shape \(formatShape(spec.shape)), "
                                  + "got \(formatShape(tensor.shape))")
            }
            guard tensor.shape.allSatisfy({ $0 > 0 }) else {
                throw RNNKitError(.badUsage, "input '\(spec.name)' is empty: shape \(formatShape(tensor.shape))")
            }
        }
        if inputs.contains(where: { $0.shape[0] != inputs[0].shape[0] }) {
            throw RNNKitError(.badUsage, "inputs disagree on the batch size: \(inputs.map { $0.shape[0] })")
        }
    }
}

extension Predictor {
    /// Every prediction allocates and frees layer outputs of a few MB, which glibc otherwise maps
    /// afresh each time, so the kernel zeroes their pages again (about a fifth of a CNN-LSTM's or
    /// an attention model's time at batch 32). The first Predictor raises glibc's mmap and trim
    /// thresholds (to 256 MB and 1 GB, process-wide) so that freed memory stays in the heap for
    /// the next prediction; after a model's load, so the load's own buffers are unaffected.
    static let reusesFreedMemory: Void = rnnkit_reuse_freed_memory()
}
