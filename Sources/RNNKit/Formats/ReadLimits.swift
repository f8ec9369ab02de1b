/// Every bound RNNKit applies while reading a file: a model (`Model.load`, the CLI's
/// `--max-bytes`), a `.keras` archive (`KerasArchive.read`) or a data file (`TensorFile.read`).
/// Sizes are in bytes. Whatever is not bounded here follows from the file's real size, so no
/// reader ever allocates by a number it has only read.
public struct ReadLimits: Sendable, Equatable {
    /// Largest single piece read into memory: the declared uncompressed size of one `.keras` or
    /// `.npz` archive entry, one `.npy` file, the text of a JSON model, the float32 tensor built
    /// from CSV windows. The CLI's `--max-bytes`.
    public var maxBytes: Int
    /// Largest sum of the declared uncompressed sizes of all the entries of an archive.
    public var maxTotalBytes: Int
    /// Most entries an archive may declare.
    public var maxEntries: Int
    /// Largest uncompressed ÷ compressed ratio of a deflated `.keras` entry that is extracted.
    /// Keras stores its entries uncompressed, so a high ratio there is a bomb, not a model.
    public var maxKerasCompressionRatio: Int
    /// Largest uncompressed ÷ compressed ratio of a deflated `.npz` entry. `np.savez_compressed`
    /// of a zero-filled array reaches deflate's own ceiling (about 1032:1), so the default only
    /// refuses what no real deflate stream produces; the declared sizes, checked against the
    /// limits above and against the bytes actually inflated, are the real bound.
    public var maxNPZCompressionRatio: Int
    /// Largest JSON text parsed into a tree (trees take far more memory than their text):
    /// `config.json` and `metadata.json` of a `.keras` archive, a `.json` data file.
    public var maxJSONBytes: Int
    /// Largest `.npy` header (the Python dict text).
    public var maxNPYHeaderBytes: Int
    /// Largest `.csv` data file.
    public var maxCSVBytes: Int
    /// Most dimensions of one array (NumPy itself allows 64).
    public var maxRank: Int

    /// The memory a parsed JSON value is counted at against `maxBytes`, before any is parsed:
    /// json-c's object, the text json-c keeps of a number, and RNNKit's own tree, rounded up
    /// (measured: 100 bytes a one-digit number, more than 175 a float32 written out in full, as
    /// a JSON model's weights are). A hundred times the two bytes of `0,`, so a JSON text's length
    /// alone does not bound what parsing it takes.
    public static let jsonBytesPerValue = 256

    /// The defaults, except for what is given. `maxTotalBytes` left out is twice `maxBytes`,
    /// so `ReadLimits(maxBytes: n)` (the CLI's `--max-bytes n`) allows an archive two such pieces.
    public init(maxBytes: Int = 2 << 30, maxTotalBytes: Int? = nil, maxEntries: Int = 10_000,
                maxKerasCompressionRatio: Int = 200, maxNPZCompressionRatio: Int = 1_100,
                maxJSONBytes: Int = 64 << 20, maxNPYHeaderBytes: Int = 1 << 20,
                maxCSVBytes: Int = 256 << 20, maxRank: Int = 64) {
        self.maxBytes = maxBytes
        let (twice, overflow) = maxBytes.multipliedReportingOverflow(by: 2)
        self.maxTotalBytes = maxTotalBytes ?? (overflow ? .max : twice)
        self.maxEntries = maxEntries
        self.maxKerasCompressionRatio = maxKerasCompressionRatio
        self.maxNPZCompressionRatio = maxNPZCompressionRatio
        self.maxJSONBytes = maxJSONBytes
        self.maxNPYHeaderBytes = maxNPYHeaderBytes
        self.maxCSVBytes = maxCSVBytes
        self.maxRank = maxRank
    }

    /// 2 GiB per piece, 4 GiB per archive, 10 000 entries, ratio 200 (`.keras`) and 1100
    /// (`.npz`), 64 MiB of JSON, 1 MiB `.npy` headers, 256 MiB of CSV, rank 64.
    public static let `default` = ReadLimits()
}
