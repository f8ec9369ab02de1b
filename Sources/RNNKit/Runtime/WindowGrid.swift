/// The sliding windows of a convolution or pooling over images [B, H, W, C] (channels_last),
/// one `Window1D` along each of the two spatial axes, with TensorFlow's arithmetic. A sequence
/// [B, T, C] is an image one row high, so the 1D layers run here too.
struct WindowGrid {
    /// The windows along the height and along the width.
    let rows: Window1D, columns: Window1D
    /// [H, W] in and [H', W'] out.
    let inputSize: [Int], outputSize: [Int]
    /// Per axis, at `o * window.size + k`: the input index that tap k of output index o reads,
    /// or -1 in the padding.
    private let rowSources: [Int], columnSources: [Int]

    /// The grid over images of `input` = [H, W]; an image too small for a valid window is an
    /// error of the data (a fixed-size input was checked when the model was read).
    init(rows: Window1D, columns: Window1D, input: [Int], _ layer: String, batch: Int) throws {
        self.rows = rows
        self.columns = columns
        inputSize = input
        outputSize = [rows.outputLength(input[0]), columns.outputLength(input[1])]
        guard outputSize.allSatisfy({ $0 > 0 }) || batch == 0 else {
            throw RNNKitError(.badUsage, "\(layer): an input of \(input[0] == 1 ? "" : "\(input[0])×")\(input[1]) "
                              + "is too small for a window of \(rows.span == 1 ? "" : "\(rows.span)×")\(columns.span)")
        }
        // A huge window (a pool_size nothing but the config bounds) over a same-padded input
        // would make these tables, and the work over them, grow without limit.
        let cells = [outputSize[0] * rows.size, outputSize[1] * columns.size]
        guard cells.allSatisfy({ $0 <= maximumDimension }), cells[0] * cells[1] <= Self.maximumWindowCells else {
            throw RNNKitError(.badUsage, "\(layer): windows of \(rows.size)×\(columns.size) cells over an input of "
                              + "\(input[0])×\(input[1]) are too large")
        }
        rowSources = Self.sources(rows, input[0])
        columnSources = Self.sources(columns, input[1])
    }

    /// Most window cells over one image (output positions × taps): far above real models
    /// (a 512×512 output of 7×7 windows has 2^23.6).
    static let maximumWindowCells = 1 << 28

    /// A window along an axis of one cell: the height of a sequence.
    static let singleRow = Window1D(size: 1, stride: 1, padding: .valid)

    private static func sources(_ window: Window1D, _ size: Int) -> [Int] {
        let before = window.padBefore(size)
        return (0..<window.outputLength(size) * window.size).map { index in
            let position = (index / window.size) * window.stride - before + (index % window.size) * window.dilation
            return position >= 0 && position < size ? position : -1
        }
    }

    /// Cells of one window (kh·kw), and of one image in and out.
    var taps: Int { rows.size * columns.size }
    var inputPositions: Int { inputSize[0] * inputSize[1] }
    var outputPositions: Int { outputSize[0] * outputSize[1] }

    /// Calls `body(tap, input position)` for every cell of the window of output position
    /// `position` that lies inside the image; taps count row-major over the window, positions
    /// row-major over the image.
    @inline(__always)
    private func forEachTap(_ position: Int, _ body: (Int, Int) -> Void) {
        let outputRow = position / outputSize[1], outputColumn = position % outputSize[1]
        for kh in 0..<rows.size {
            let h = rowSources[outputRow * rows.size + kh]
            guard h >= 0 else { continue }
            for kw in 0..<columns.size {
                let w = columnSources[outputColumn * columns.size + kw]
                guard w >= 0 else { continue }
                body(kh * columns.size + kw, h * inputSize[1] + w)
            }
        }
    }

    /// Most scalars of the unfolded windows held at once: products run over chunks of rows.
    static let unfoldedScalars = 1 << 20

    /// [B, H, W, C] (or [B, W, C] one row high) convolved by `kernel` [kh, kw, C / groups, F]
    /// (or [kw, C / groups, F]) plus `bias` [F], then activated: [B, H', W', F]. One packed
    /// matrix product per group over the unfolded windows (im2col): row (b, position) holds the
    /// window's taps one after another, each with the group's channels, the order of the kernel's
    /// rows.
    func convolve(_ input: Tensor, kernel: Tensor, bias: Tensor?, groups: Int, activation: Activation) -> Tensor {
        let batch = input.shape[0], channels = input.shape[input.rank - 1], filters = kernel.shape[kernel.rank - 1]
        let groupChannels = channels / groups, groupFilters = filters / groups
        let width = taps * groupChannels, positions = outputPositions, imageScalars = inputPositions * channels
        let rowCount = batch * positions
        let matrix = kernel.reshaped([width, filters])
        var output = [Float](repeating: 0, count: rowCount * filters)
        let chunk = max(1, min(rowCount, Self.unfoldedScalars / max(width, 1)))
        var unfolded = [Float](repeating: 0, count: chunk * width)
        for group in 0..<groups {
            let range = group * groupFilters..<(group + 1) * groupFilters
            let groupBias = bias.map { Array($0.scalars[range]) }
            let packed = PackedMatrixCache.packed(matrix, columns: groups == 1 ? nil : range)
            for first in stride(from: 0, to: rowCount, by: chunk) {
                let count = min(chunk, rowCount - first)
                for row in 0..<count {
                    let image = (first + row) / positions * imageScalars + group * groupChannels
                    let target = row * width
                    for index in target..<target + width { unfolded[index] = 0 }
                    forEachTap((first + row) % positions) { tap, source in
                        let from = image + source * channels, to = target + tap * groupChannels
                        for c in 0..<groupChannels { unfolded[to + c] = input.scalars[from + c] }
                    }
                }
                unfolded.withUnsafeBufferPointer { a in
                    output.withUnsafeMutableBufferPointer { c in
                        Kernels.gemm(m: count, a: a.baseAddress!, lda: width, b: packed, bias: groupBias,
                                     c: c.baseAddress! + first * filters + range.lowerBound, ldc: filters,
                                     accumulate: false)
                    }
                }
            }
        }
        activation.apply(to: &output, width: filters)
        return Tensor(shape: [batch] + outputSize + [filters], scalars: output)
    }

    enum Reduction: Sendable {
        case maximum, average
    }

    /// [B, H, W, C] (or [B, W, C]) to [B, H', W', C]: the maximum or the mean of each window
    /// over the cells inside the image. Padding takes no part (TensorFlow's rule: the mean
    /// divides by the real cells only).
    func pool(_ input: Tensor, _ reduction: Reduction) -> Tensor {
        let batch = input.shape[0], channels = input.shape[input.rank - 1]
        var output = [Float](repeating: 0, count: batch * outputPositions * channels)
        var window = [Float](repeating: 0, count: channels)
        for b in 0..<batch {
            for position in 0..<outputPositions {
                var cells = 0
                forEachTap(position) { _, source in
                    let from = (b * inputPositions + source) * channels
                    for c in 0..<channels {
                        let value = input.scalars[from + c]
                        switch reduction {
                        case .maximum: window[c] = cells == 0 ? value : max(window[c], value)
                        case .average: window[c] = cells == 0 ? value : window[c] + value
                        }
                    }
                    cells += 1
                }
                let target = (b * outputPositions + position) * channels
                guard cells > 0 else { continue }
                let divisor: Float = reduction == .average ? Float(cells) : 1
                for c in 0..<channels { output[target + c] = window[c] / divisor }
            }
        }
        return Tensor(shape: [batch] + outputSize + [channels], scalars: output)
    }
}
