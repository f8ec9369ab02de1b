/// Keras `RNN(cell)`: the sequence loop around a cell given on its own (LSTMCell, GRUCell,
/// SimpleRNNCell), or around `StackedRNNCells([...])`, whose cells run one after the other at
/// each time step, each cell's output the next one's input. The output is the last cell's; with
/// return_state the states are every cell's, in cell order (h, or h and c for an LSTMCell).
struct RNNLayer: Equatable, Sendable {
    /// The cells in step order, each as the recurrent layer that would run it alone: its units,
    /// activations and bias, with the RNN's sequence options (return_sequences, go_backwards...).
    var cells: [RecurrentLayer]
    /// Whether the cells are wrapped in StackedRNNCells (which may hold a single one).
    var stacked: Bool

    /// The RNN's own options, the same in every cell.
    var options: RecurrentOptions { cells[cells.count - 1].options }

    /// The Keras class of the cell, or of each cell of the stack.
    static func cellClassName(_ cell: RecurrentLayer) -> String { cell.className + "Cell" }

    /// The name of cell `index`'s weights in the keras layout, before `kernel`: "" for a lone
    /// cell, `cells.<index>.` in a stack.
    func weightPrefix(_ index: Int) -> String { stacked ? "cells.\(index)." : "" }

    /// Where Keras 3 keeps cell `index`'s variables below the layer's group: `cell/vars`, or
    /// `cell/cells/<snake_case class>[_n]/vars` in a stack (numbered on repeats, as Keras names
    /// the items of a container).
    func keras3Group(_ index: Int) -> String {
        guard stacked else { return "cell/vars" }
        return "cell/cells/\(cellName(index))/vars"
    }

    /// `lstm_cell`, `gru_cell_1`...: cell `index`'s name, its class in snake case numbered on
    /// repeats in a stack (Keras 3's weight paths, tf_keras's default names).
    func cellName(_ index: Int) -> String {
        let base = snakeCase(Self.cellClassName(cells[index]))
        let earlier = cells[..<index].filter { snakeCase(Self.cellClassName($0)) == base }.count
        return earlier == 0 ? base : "\(base)_\(earlier)"
    }

    /// All cells' states, in order.
    var stateCount: Int { cells.reduce(0) { $0 + $1.cell.stateCount } }

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        guard let sequence = inputs.first else { throw RNNKitError(.invalidModel, "RNN needs an input") }
        let initialStates = Array(inputs.dropFirst())
        if !initialStates.isEmpty && initialStates.count != stateCount {
            throw RNNKitError(.invalidModel, "RNN takes \(stateCount) initial state(s), got \(initialStates.count)")
        }
        var cellInput = sequence, output: [Shape] = [], states: [Shape] = [], offset = 0
        for (index, cell) in cells.enumerated() {
            var options = cell.options
            if index < cells.count - 1 { options.returnSequences = true }
            options.returnState = true
            let count = cell.cell.stateCount
            let given = initialStates.isEmpty ? [] : Array(initialStates[offset..<offset + count])
            let shapes = try RecurrentLayer(cell: cell.cell, options: options).outputShapes(for: [cellInput] + given)
            offset += count
            cellInput = shapes[0]
            output = [shapes[0]]
            states += shapes.dropFirst()
        }
        return output + (options.returnState ? states : [])
    }

    func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        guard let sequence = inputs.first else { return [] }
        var inputDim = try ShapeCheck.features(sequence, "RNN"), specs: [WeightSpec] = []
        for (index, cell) in cells.enumerated() {
            specs += cell.cellWeightSpecs(inputDim: inputDim, namePrefix: weightPrefix(index),
                                          keras3Group: keras3Group(index))
            inputDim = cell.options.units
        }
        return specs
    }

    /// Runs the cells one after the other over the whole sequence, which gives what running them
    /// together step by step gives: every cell keeps its state at a masked step, where the next
    /// cell is masked too. A cell after the first reads the previous one's outputs in processing
    /// order (reversed under go_backwards, with the mask) and so runs forwards. A stream's carry
    /// holds every cell's states and the last cell's output.
    func forward(_ inputs: [LayerValue], weights: [String: Tensor], prepared: PreparedWeights = PreparedWeights(),
                 carry: RecurrentCarry?) throws -> (outputs: [LayerValue], carry: RecurrentCarry) {
        let initialStates = inputs.dropFirst().map(\.tensor)
        let cellWeights = try prepared.cells {
            try cells.enumerated().map { index, cell in try CellWeights(weights, prefix: weightPrefix(index), for: cell) }
        }
        var sequence = inputs[0], offset = 0, carriedOffset = 0
        var results: [RecurrentLoop.Result] = []
        for (index, cell) in cells.enumerated() {
            let isLast = index == cells.count - 1, count = cell.cell.stateCount
            let batch = sequence.tensor.shape[0], carriedCount = count * batch * cell.options.units
            var options = cell.options
            if !isLast { options.returnSequences = true }
            if index > 0 { options.goBackwards = false }
            let cellCarry = carry.map { carry in
                RecurrentCarry(states: Array(carry.states[carriedOffset..<carriedOffset + carriedCount]),
                               lastOutput: isLast ? carry.lastOutput
                                   : [Float](repeating: 0, count: batch * cell.options.units))
            }
            let given = initialStates.isEmpty ? [] : Array(initialStates[offset..<offset + count])
            let result = cell.loop(options: options)
                .run(sequence.tensor, mask: sequence.mask, initialStates: given, weights: cellWeights[index],
                     carry: cellCarry)
            offset += count
            carriedOffset += carriedCount
            if cell.options.goBackwards && index == 0, let mask = sequence.mask {
                sequence.mask = reversedInTime(mask, steps: sequence.tensor.shape[1])
            }
            sequence.tensor = result.output
            results.append(result)
        }
        // As for one recurrent layer: a sequence output keeps the input's mask, unreversed.
        let last = results[results.count - 1]
        let output = LayerValue(last.output, mask: options.returnSequences ? inputs[0].mask : nil)
        return (options.returnState ? [output] + results.flatMap(\.states).map { LayerValue($0) } : [output],
                RecurrentCarry(states: results.flatMap(\.finalStates), lastOutput: last.lastOutput))
    }

    /// A [B, T] mask with each row's steps reversed.
    private func reversedInTime(_ mask: [Bool], steps: Int) -> [Bool] {
        stride(from: 0, to: mask.count, by: max(steps, 1)).flatMap { mask[$0..<$0 + steps].reversed() }
    }
}
