import Foundation

/// The one error type RNNKit throws. Its description is a single line that names the file and
/// the place inside it (an HDF5 group path, a JSON pointer or a layer name).
public struct RNNKitError: Error, LocalizedError, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, broadly: a command-line tool maps it to its exit status.
    public enum Kind: Sendable, Equatable {
        /// The file could not be read as any supported format (corrupt, truncated, wrong kind).
        case unreadable
        /// The file was read, but the model it describes is inconsistent or unsupported.
        case invalidModel
        /// The caller asked for something impossible (bad arguments, wrong input data).
        case badUsage
    }

    /// What went wrong, broadly.
    public var kind: Kind
    /// What is wrong, without the file and location.
    public var message: String
    /// The file the problem is in, when there is one.
    public var file: String?
    /// Where inside the file: `/model_weights/dense`, `/config/layers/1/config/units`, a layer name.
    public var location: String?
    /// What the caller can change to lift this refusal, when it is one of the caller's own
    /// bounds or policies rather than a fault in the data; a command-line tool names its option.
    public var liftedBy: CallerSetting?

    /// A caller's setting that, changed, lifts a refusal.
    public enum CallerSetting: Sendable, Equatable {
        /// A byte bound of ``ReadLimits``; the value is the bound that was exceeded.
        case byteLimit(Int)
        /// Permission to replace an existing file.
        case replacing
    }

    /// An error of `kind`, found in `file` at `location` when given.
    public init(_ kind: Kind, _ message: String, file: String? = nil, location: String? = nil) {
        self.kind = kind
        self.message = message
        self.file = file
        self.location = location
    }

    /// `file: location: message`, on one line whatever the file held.
    public var description: String {
        var text = ""
        if let file { text += file + ": " }
        if let location, !location.isEmpty { text += location + ": " }
        return oneLine(text + message)
    }

    /// The same one line, for `localizedDescription`.
    public var errorDescription: String? { description }

    /// The same error, marked as lifted by `setting`.
    func lifted(by setting: CallerSetting) -> RNNKitError {
        var copy = self
        copy.liftedBy = setting
        return copy
    }

    /// The same error, attributed to `file` unless it already names one.
    func inFile(_ path: String) -> RNNKitError {
        var copy = self
        if copy.file == nil { copy.file = path }
        return copy
    }
}

/// `text` with its control characters escaped (`\n`, `\u{1b}`), so that a message built from
/// names found in a file (layer names, weight names, entry names, paths) always prints as one
/// line and cannot drive the terminal. The one escaper of RNNKit: every name quoted in a message
/// goes through it, and `RNNKitError.description` applies it to the whole line (a second pass
/// changes nothing, since the escapes hold no control characters).
func oneLine(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
    var escaped = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n": escaped += "\\n"
        case "\r": escaped += "\\r"
        case "\t": escaped += "\\t"
        case _ where scalar.properties.generalCategory == .control:
            escaped += "\\u{\(String(scalar.value, radix: 16))}"
        default: escaped.unicodeScalars.append(scalar)
        }
    }
    return escaped
}
