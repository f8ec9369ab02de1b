internal import CRNNKitKernels

/// A weight as found in a file, with where it was found (an HDF5 dataset path, a JSON pointer,
/// a tensor name).
struct StoredWeight {
    var location: String
    var tensor: Tensor
}

/// Binding read weights to the layers that own them, shared by every format: each format finds
/// a layer's stored weights its own way, and this checks their count and shapes against what
/// the layer's config implies.
enum WeightBinding {
    /// The weight specs of every layer whose input shapes are known, by layer index.
    static func specs(of model: Model, _ analysis: GraphAnalysis) -> [Int: [WeightSpec]] {
        var result: [Int: [WeightSpec]] = [:]
        for (index, layer) in model.layers.enumerated() {
            guard let kind = layer.kind,
                  let inputs = analysis.inputShapes(ofLayer: index, in: model)
            else { continue }
            result[index] = (try? kind.weightSpecs(for: inputs)) ?? []
        }
        return result
    }

    /// Binds weights stored in Keras's order (legacy HDF5 `weight_names`), checking count and
    /// shapes. Problems are appended; only a layer whose weights all fit is bound.
    static func bindInOrder(_ stored: [StoredWeight], to layerIndex: Int, specs: [WeightSpec],
                            groupLocation: String, model: inout Model) {
        let layer = model.layers[layerIndex]
        guard stored.count == specs.count else {
            let expected = specs.map(\.name).joined(separator: ", ")
            model.problems.append(Problem(.error, groupLocation,
                "layer '\(layer.name)' has \(stored.count) weight(s) in the file, its config implies \(specs.count) (\(expected))"))
            return
        }
        bind(Array(zip(specs, stored)), to: layerIndex, model: &model)
    }

    /// Binds weights already matched to their specs, checking shapes.
    static func bind(_ pairs: [(WeightSpec, StoredWeight)], to layerIndex: Int, model: inout Model) {
        var bound: [String: Tensor] = [:]
        for (spec, weight) in pairs {
            guard weight.tensor.shape == spec.shape else {
                model.problems.append(Problem(.error, weight.location,
                    "\(model.layers[layerIndex].name).\(spec.name) has shape \(formatShape(weight.tensor.shape)), expected \(formatShape(spec.shape))"))
                continue
            }
            bound[spec.name] = weight.tensor
        }
        if bound.count == pairs.count { model.layers[layerIndex].weights = bound }
    }

    /// Problems of bound values: NaN or infinite weights.
    static func checkValues(_ model: Model) -> [Problem] {
        var problems: [Problem] = []
        for layer in model.layers {
            for (name, tensor) in layer.weights.sorted(by: { $0.key < $1.key }) {
                let found = tensor.scalars.withUnsafeBufferPointer { rnnkit_first_nonfinite($0.baseAddress, $0.count) }
                if found >= 0, case let position = Int(found) {
                    let kind = tensor.scalars[position].isNaN ? "NaN" : "infinite"
                    problems.append(Problem(.error, "\(layer.name).\(name)",
                                            "\(kind) value at flat index \(position)"))
                }
            }
        }
        return problems
    }
}

extension Array where Element == WeightSpec {
    /// Parameter count with overflow detection: nil for absurd specs.
    var parameterCount: Int? {
        var total = 0
        for spec in self {
            guard let count = Tensor.checkedElementCount(spec.shape) else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(count)
            if overflow { return nil }
            total = sum
        }
        return total
    }
}
