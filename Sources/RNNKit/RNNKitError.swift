import Foundation

/// The one error type RNNKit throws. Its description is a single line that names the file and
/// the place inside it (an HDF5 group path, a JSON pointer or a layer name).
public struct RNNKitError: Error, LocalizedError, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The file could not be read as any supported format (corrupt, truncated, wrong kind).
        case unreadable
        /// The file was read, but the model it describes is inconsistent or unsupported.
        case invalidModel
        /// The caller asked for something impossible (bad arguments, wrong input data).
        case badUsage
    }

    public var kind: Kind
    public var message: String
    /// The file the problem is in, when there is one.
    public var file: String?
    /// Where inside the file: `/model_weights/dense`, `/config/layers/1/config/units`, a layer name.
    public var location: String?

    public init(_ kind: Kind, _ message: String, file: String? = nil, location: String? = nil) {
        self.kind = kind
        self.message = message
        self.file = file
        self.location = location
    }

    /// Process exit status: 1 for an invalid model, 2 for unreadable input or bad usage.
    public var exitCode: Int32 { kind == .invalidModel ? 1 : 2 }

    public var description: String {
        var prefix = ""
        if let file { prefix += file + ": " }
        if let location, !location.isEmpty { prefix += location + ": " }
        // Keep it one line whatever the underlying message holds.
        return prefix + message.replacingOccurrences(of: "\n", with: " ")
    }

    public var errorDescription: String? { description }

    /// The same error, attributed to `file` unless it already names one.
    public func inFile(_ path: String) -> RNNKitError {
        var copy = self
        if copy.file == nil { copy.file = path }
        return copy
    }
}
