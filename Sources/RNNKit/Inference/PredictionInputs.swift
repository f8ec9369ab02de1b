/// Matching the arrays of data files to a model's inputs, never by guess, with token ids checked.
///
/// The binding rules:
/// - **by name** when every array given is named after a model input (the entry names of an
///   `.npz`, the keys of a JSON object), across all files: each input takes the array of its name;
/// - **by position** when no array is named after a model input (the single array of an `.npy`,
///   a CSV file or a JSON array, and `.npz` names such as `arr_0`): the n-th array feeds the n-th
///   model input, in the order of the files and of the arrays inside each;
/// - anything else is refused (`.badUsage`), listing the model's inputs and what was given: some
///   names match a model input and others do not, a name given twice, a model input left
///   without data, or a count that differs from the model's.
///
/// Token-id inputs (an integer InputLayer dtype) take whole numbers only, within the vocabulary
/// of the Embedding they feed; an error names the input, the position and the value.
///
/// Names appear in messages as they are: `RNNKitError` escapes control characters (a tab as `\t`).
public enum PredictionInputs {
    /// The arrays of one data file.
    public struct Source: Sendable {
        /// The file, for messages.
        public var file: String
        /// Its arrays, in file order.
        public var arrays: [NamedTensor]
        /// True when the file names its arrays (`.npz` entries, a JSON object's keys); false for
        /// the single unnamed array of an `.npy`, CSV or JSON array file, whose name is only a
        /// placeholder and never binds by name.
        public var namesArrays: Bool

        /// The arrays `arrays` of `file`.
        public init(file: String, arrays: [NamedTensor], namesArrays: Bool) {
            self.file = file
            self.arrays = arrays
            self.namesArrays = namesArrays
        }
    }

    /// Reads the data files `paths` (kinds as `TensorFile.read`) and binds their arrays to the
    /// inputs of `predictor`, returning one tensor per model input, in model input order.
    ///
    /// A CSV file is shaped for the model input at its position (CSV is bound by position):
    /// for an input of rank 2, such as token ids `(None, T)`, rows are sequences, `[rows, columns]`,
    /// and `csvWindow: W` cuts one column into the windows `[rows - W + 1, W]`; otherwise rows are
    /// time steps, `[1, rows, columns]`, and windows are `[rows - W + 1, W, columns]`.
    public static func read(_ paths: [String], for predictor: Predictor, csvWindow: Int? = nil,
                            limits: ReadLimits = .default) throws -> [Tensor] {
        let specs = predictor.inputSpecs
        var sources: [Source] = []
        var arraysBefore = 0
        var readCSV = false
        for path in paths {
            let source: Source
            switch path == "-" ? .ndjson : try TensorFile.kind(of: path, writing: false) {
            case .csv:
                readCSV = true
                let layout = CSVFormat.Layout(feeding: specs.indices.contains(arraysBefore) ? specs[arraysBefore] : nil)
                let array = try CSVFormat.read(path, window: csvWindow, layout: layout, limits: limits)
                source = Source(file: path, arrays: [array], namesArrays: false)
            case .json:
                let (arrays, named) = try JSONTensorFormat.readNamingArrays(path, limits: limits)
                source = Source(file: path, arrays: arrays, namesArrays: named)
            case .ndjson:
                let (arrays, named) = try NDJSONFormat.read(path, limits: limits)
                source = Source(file: path, arrays: arrays, namesArrays: named)
            case .npz:
                source = Source(file: path, arrays: try NPZFormat.read(path, limits: limits), namesArrays: true)
            case .npy:
                source = Source(file: path, arrays: [try NPYFormat.readFile(path, limits: limits)], namesArrays: false)
            }
            sources.append(source)
            arraysBefore += source.arrays.count
        }
        if csvWindow != nil && !readCSV {
            throw RNNKitError(.badUsage, "a window length applies only to .csv files", file: paths.first)
        }
        return try bind(sources, for: predictor)
    }

    /// Binds the arrays of `sources` to the inputs of `predictor` by the rules above and checks
    /// token ids against the vocabulary of the Embedding each token input feeds.
    public static func bind(_ sources: [Source], for predictor: Predictor) throws -> [Tensor] {
        let given = sources.flatMap { source in
            source.arrays.map { GivenArray(file: source.file, name: source.namesArrays ? $0.name : nil, array: $0) }
        }
        return try tensors(given, for: predictor.inputSpecs) { vocabularySize(of: $0.name, in: predictor.model) }
    }

    /// The same rules for arrays whose files are unknown: an array named `TensorFile.defaultName`
    /// counts as unnamed. Token ids are checked to be whole numbers (the vocabulary is checked
    /// when the model runs).
    public static func arrange(_ arrays: [NamedTensor], for specs: [Predictor.InputSpec]) throws -> [Tensor] {
        let given = arrays.map { GivenArray(file: nil, name: $0.name == TensorFile.defaultName ? nil : $0.name, array: $0) }
        return try tensors(given, for: specs) { _ in nil }
    }

    /// The tensors of `given` in `specs`' order, token ids checked against `vocabulary(spec)`.
    private static func tensors(_ given: [GivenArray], for specs: [Predictor.InputSpec],
                                vocabulary: (Predictor.InputSpec) -> Int?) throws -> [Tensor] {
        try zip(bound(given, to: specs), specs).map { given, spec in
            if spec.takesTokenIDs { try checkTokenIDs(given, for: spec, vocabulary: vocabulary(spec)) }
            return given.array.tensor
        }
    }

    /// One array given for prediction: its file and, when the file names it, its name.
    struct GivenArray {
        var file: String?
        var name: String?
        var array: NamedTensor

        /// `'beta' in b.npz`, `the array in a.npy`.
        var described: String {
            let what = name.map { "'\($0)'" } ?? "the array"
            return file.map { "\(what) in \($0)" } ?? what
        }
    }

    /// `b.npz ('beta', 'zzz'); a.npy (unnamed)`: the arrays grouped by file, in order.
    static func list(_ given: [GivenArray]) -> String {
        var groups: [(file: String?, names: [String])] = []
        for array in given {
            let name = array.name.map { "'\($0)'" } ?? "unnamed"
            if let last = groups.indices.last, groups[last].file == array.file {
                groups[last].names.append(name)
            } else {
                groups.append((array.file, [name]))
            }
        }
        return groups.map { group in
            let names = group.names.joined(separator: ", ")
            return group.file.map { "\($0) (\(names))" } ?? names
        }.joined(separator: "; ")
    }

    /// `given` reordered to `specs`' order, or the reason it cannot be.
    static func bound(_ given: [GivenArray], to specs: [Predictor.InputSpec]) throws -> [GivenArray] {
        let inputNames = Set(specs.map(\.name))
        func refusal(_ reason: String) -> RNNKitError {
            let inputs = specs.map { "'\($0.name)'" }.joined(separator: ", ")
            let listed = given.isEmpty ? "nothing" : list(given)
            return RNNKitError(.badUsage, "cannot match the input arrays to the model's inputs: \(reason); "
                + "the model's inputs: \(inputs); given: \(listed)")
        }
        guard let matching = given.first(where: { $0.name.map(inputNames.contains) ?? false }) else {
            guard given.count == specs.count else {
                let named = given.contains { $0.name != nil } ? " (no array is named after a model input, so they "
                    + "are taken in order)" : ""
                throw refusal("the model takes \(specs.count) input(s), got \(given.count) array(s)\(named)")
            }
            return given
        }
        if let stray = given.first(where: { !($0.name.map(inputNames.contains) ?? false) }) {
            let strayIs = stray.name == nil ? "has no name" : "names no model input"
            throw refusal("\(stray.described) \(strayIs), but \(matching.described) names one; name every "
                + "array after a model input, or none to take them in order")
        }
        var byName: [String: GivenArray] = [:]
        for array in given {
            let name = array.name!  // every array matched a model input above
            if let first = byName[name] {
                let files = [first.file, array.file].compactMap { $0 }
                throw refusal("'\(name)' is given twice" + (files.isEmpty ? "" : " (\(files.joined(separator: " and ")))"))
            }
            byName[name] = array
        }
        return try specs.map { spec in
            guard let array = byName[spec.name] else {
                throw refusal("no array for the model input '\(spec.name)'")
            }
            return array
        }
    }

    /// Refuses a value that is not a whole number, or (with `vocabulary`) not in [0, vocabulary).
    /// Arrays whose rank is not the input's are left to the shape check, which names both shapes.
    static func checkTokenIDs(_ given: GivenArray, for spec: Predictor.InputSpec, vocabulary: Int?) throws {
        let tensor = given.array.tensor
        guard tensor.rank == spec.shape.count else { return }
        for (offset, value) in tensor.scalars.enumerated() {
            let whole = value.isFinite && value == value.rounded()
            let inVocabulary = vocabulary.map { value >= 0 && value < Float($0) } ?? true
            if whole && inVocabulary { continue }
            // Whole numbers as integers (57, not 57.0), as long as Int64 holds them.
            let shown = whole && abs(value) < 0x1p62 ? String(Int64(value)) : "\(value)"
            let problem = whole ? "is outside the vocabulary [0, \(vocabulary!)) of the Embedding it feeds"
                : "is not an integer"
            throw RNNKitError(.badUsage, "token id \(shown) \(problem)", file: given.file,
                              location: "input '\(spec.name)', "
                                  + position(of: offset, in: tensor.shape))
        }
    }

    /// "batch 1, step 3" for the element at `offset` of a tensor of `shape` (row-major); further
    /// axes are "index k".
    static func position(of offset: Int, in shape: [Int]) -> String {
        var remainder = offset
        var indices = [Int](repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() where shape[axis] > 0 {
            indices[axis] = remainder % shape[axis]
            remainder /= shape[axis]
        }
        return indices.enumerated().map { axis, index in
            switch axis {
            case 0: return "batch \(index)"
            case 1: return "step \(index)"
            default: return "index \(index)"
            }
        }.joined(separator: ", ")
    }

    /// The smallest `input_dim` of the Embedding layers that read the model input `input`
    /// directly; nil when none does.
    static func vocabularySize(of input: String, in model: Model) -> Int? {
        model.layers.compactMap { layer -> Int? in
            guard case .embedding(let embedding)? = layer.kind,
                  layer.nodes.contains(where: { $0.inputs.contains { $0.layer == input } })
            else { return nil }
            return embedding.inputDim
        }.min()
    }
}
