import Foundation

/// How JSON output writes NaN and the infinities, for which strict JSON (RFC 8259) has no token.
enum NonFiniteJSON: Sendable, Equatable {
    /// `null`, which every strict parser reads; which non-finite value it was is lost.
    case null
    /// `NaN`, `Infinity` and `-Infinity`, as Python's `json` writes and reads them: lossless, but
    /// refused by strict parsers.
    case pythonLiterals

    func json(for value: Float) -> JSONValue {
        self == .null && !value.isFinite ? .null : .float(value)
    }
}

extension TensorFile {
    /// The formats `write` produces.
    public enum OutputFormat: String, CaseIterable, Sendable {
        case npy, npz, json

        /// The format named by `path`'s extension (case-insensitive).
        public init(path: String) throws {
            let kind = try TensorFile.kind(of: path, writing: true)
            guard let format = OutputFormat(rawValue: kind.rawValue) else {
                preconditionFailure("kind(of:writing:) returns only writable kinds")
            }
            self = format
        }
    }

    /// Where `write` puts its output.
    public enum Destination: Sendable, Equatable {
        /// A file, written atomically (see `write(_:to:)`).
        case file(String)
        /// The process's standard output, written as it is produced.
        case standardOutput
    }

    /// Writes `tensors` in `format`. NaN and the infinities go into JSON as `null`, so that strict
    /// parsers read it; `.npy` and `.npz` keep them.
    ///
    /// A file is written as `write(_:to:)` does, with an output policy: an existing file is
    /// replaced only when `replacing`, and none of `inputs` ever, whatever path names it (the same
    /// device and inode). Refusals are `.badUsage` errors whose `liftedBy` tells a caller's
    /// setting from the ones no setting lifts.
    public static func write(_ tensors: [NamedTensor], as format: OutputFormat, to destination: Destination,
                             replacing: Bool = false, protecting inputs: [String] = []) throws {
        switch destination {
        case .file(let path):
            let body = try writer(for: tensors, as: format, nonFinite: .null, path: path)
            try AtomicFile.write(to: path, replacing: replacing, protecting: inputs, body)
        case .standardOutput:
            let name = "standard output"
            try FileSink.writeToStandardOutput(named: name, try writer(for: tensors, as: format, nonFinite: .null,
                                                                         path: name))
        }
    }

    /// Checks `write`'s output policy for the file `path` without writing anything, so that a
    /// caller can refuse before long work rather than after it.
    public static func checkDestination(_ path: String, replacing: Bool, protecting inputs: [String]) throws {
        try AtomicFile.checkPolicy(for: path, replacing: replacing, protecting: inputs)
    }

    /// How many of the tensors' values are NaN or infinite.
    public static func nonFiniteCount(_ tensors: [NamedTensor]) -> Int {
        tensors.reduce(0) { count, named in count + named.tensor.scalars.lazy.filter { !$0.isFinite }.count }
    }

    /// Checks that `tensors` fit `format` and returns what writes them; `path` names the
    /// destination in errors.
    static func writer(for tensors: [NamedTensor], as format: OutputFormat, nonFinite: NonFiniteJSON,
                       path: String) throws -> (FileSink) throws -> Void {
        switch format {
        case .npy:
            guard tensors.count == 1 else {
                throw RNNKitError(.badUsage, "an .npy file holds exactly one array, not \(tensors.count) "
                    + "(write .npz or .json for several)", file: path)
            }
            let tensor = tensors[0].tensor
            return { sink in
                try sink.write(NPYFormat.header(shape: tensor.shape))
                try sink.writeLittleEndian(tensor.scalars)
            }
        case .npz:
            let data = try NPZFormat.archive(tensors, path: path)
            return { sink in try sink.write(data) }
        case .json:
            try checkUniqueNames(tensors, path: path)
            let text = JSONWriter.string(jsonValue(tensors, nonFinite: nonFinite)) + "\n"
            return { sink in try sink.write(Data(text.utf8)) }
        }
    }
}
