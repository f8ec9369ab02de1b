/// The versions of RNNKit and of the C libraries it runs with. The libraries are asked at run
/// time, so these are the ones actually loaded, which may differ from the headers RNNKit was
/// built against.
public enum Versions {
    /// RNNKit's own version.
    public static let rnnkit = "0.1.0"

    /// libhdf5's version as `major.minor.release`.
    public static var hdf5: String { HDF5Library.version }

    /// json-c's version.
    public static var jsonC: String { JSONParser.libraryVersion }

    /// One line per component: "RNNKit 0.1.0", "HDF5 1.10.8", "json-c 0.16".
    public static var description: String {
        "RNNKit \(rnnkit)\nHDF5 \(hdf5)\njson-c \(jsonC)"
    }
}
