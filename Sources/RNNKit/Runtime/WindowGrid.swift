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

    /// Most scalars of the unfolded windows each thread holds at once: products run over chunks
    /// of rows.
    static let unfoldedScalars = 1 << 20

    /// [B, H, W, C] (or [B, W, C] one row high) convolved by `kernel` [kh, kw, C / groups, F]
    /// (or [kw, C / groups, F]) plus `bias` [F], then activated: [B, H', W', F]. One packed
    /// matrix product per group over the unfolded windows (im2col): row (b, position) holds the
    /// window's taps one after another, each with the group's channels, the order of the kernel's
    /// rows. Undilated windows of one group are read in place instead (`SlidingWindows`); the
    /// rows are split among the runtime's threads.
    func convolve(_ input: Tensor, kernel: Tensor, bias: Tensor?, groups: Int, activation: Activation) -> Tensor {
        let batch = input.shape[0], channels = input.shape[input.rank - 1], filters = kernel.shape[kernel.rank - 1]
        let groupChannels = channels / groups, groupFilters = filters / groups
        let width = taps * groupChannels, rowCount = batch * outputPositions
        let matrix = kernel.reshaped([width, filters])
        let sliding = groups == 1 ? SlidingWindows(self, input) : nil
        // Every value is written: each group's product fills its columns of every row.
        let output = [Float](unsafeUninitializedCapacity: rowCount * filters) { buffer, initialized in
            initialized = rowCount * filters
            // Each share writes its own rows (none in an empty batch).
            guard let base = buffer.baseAddress else { return }
            for group in 0..<groups {
                let range = group * groupFilters..<(group + 1) * groupFilters
                let groupBias = bias.map { Array($0.scalars[range]) }
                let packed = PackedMatrixCache.packed(matrix, columns: groups == 1 ? nil : range)
                RNNKitRuntime.forEachShare(of: rowCount, multiplyAddsPerItem: width * groupFilters, granule: 6) { rows in
                    if let sliding {
                        sliding.multiply(rows, by: packed, bias: groupBias, into: base)
                    } else {
                        unfold(input, rows, group: group, groupChannels: groupChannels) { a, first, count in
                            Kernels.gemm(m: count, a: a, lda: width, b: packed, bias: groupBias,
                                         c: base + range.lowerBound + first * filters, ldc: filters, accumulate: false,
                                         threads: 1)
                        }
                    }
                    // The last group's product completes the rows.
                    if group == groups - 1 {
                        activation.apply(base + rows.lowerBound * filters, rows: rows.count, width: filters)
                    }
                }
            }
        }
        return Tensor(shape: [batch] + outputSize + [filters], scalars: output)
    }

    /// The unfolded windows of the output rows `rows` (b, position), in chunks of at most
    /// `unfoldedScalars`, each handed to `product(unfolded rows, first row, row count)`.
    private func unfold(_ input: Tensor, _ rows: Range<Int>, group: Int, groupChannels: Int,
                        _ product: (UnsafePointer<Float>, Int, Int) -> Void) {
        let channels = input.shape[input.rank - 1], width = taps * groupChannels
        let positions = outputPositions, imageScalars = inputPositions * channels
        let chunk = max(1, min(rows.count, Self.unfoldedScalars / max(width, 1)))
        var unfolded = [Float](repeating: 0, count: chunk * width)
        for first in stride(from: rows.lowerBound, to: rows.upperBound, by: chunk) {
            let count = min(chunk, rows.upperBound - first)
            for row in 0..<count {
                let image = (first + row) / positions * imageScalars + group * groupChannels
                let target = row * width
                for index in target..<target + width { unfolded[index] = 0 }
                forEachTap((first + row) % positions) { tap, source in
                    let from = image + source * channels, to = target + tap * groupChannels
                    for c in 0..<groupChannels { unfolded[to + c] = input.scalars[from + c] }
                }
            }
            unfolded.withUnsafeBufferPointer { product($0.baseAddress!, first, count) }
        }
    }

    enum Reduction: Sendable {
        case maximum, average
    }

    /// [B, H, W, C] (or [B, W, C]) to [B, H', W', C]: the maximum or the mean of each window
    /// over the cells inside the image. Padding takes no part (TensorFlow's rule: the mean
    /// divides by the real cells only).
    func pool(_ input: Tensor, _ reduction: Reduction) -> Tensor {
        let batch = input.shape[0], channels = input.shape[input.rank - 1], positions = outputPositions
        var output = [Float](repeating: 0, count: batch * positions * channels)
        output.withUnsafeMutableBufferPointer { buffer in
            // Each share writes its own rows (b, position); none in an empty batch.
            guard let output = buffer.baseAddress else { return }
            RNNKitRuntime.forEachShare(of: batch * positions, multiplyAddsPerItem: taps * channels) { rows in
                input.scalars.withUnsafeBufferPointer { scalars in
                    for row in rows {
                        let image = row / positions * inputPositions, target = output + row * channels
                        var cells = 0
                        forEachTap(row % positions) { _, source in
                            let cell = scalars.baseAddress! + (image + source) * channels
                            switch (reduction, cells) {
                            case (_, 0): target.update(from: cell, count: channels)
                            case (.maximum, _): for c in 0..<channels { target[c] = max(target[c], cell[c]) }
                            case (.average, _): for c in 0..<channels { target[c] += cell[c] }
                            }
                            cells += 1
                        }
                        guard reduction == .average, cells > 1 else { continue }
                        let divisor = Float(cells)
                        for c in 0..<channels { target[c] /= divisor }
                    }
                }
            }
        }
        return Tensor(shape: [batch] + outputSize + [channels], scalars: output)
    }
}

/// Undilated windows read in place. Along a row of the (padded) image, the taps of one kernel
/// row for output column o are the kw·C floats from column o·stride, so these rows of the
/// unfolded matrix are overlapping slices of the image, each stride·C floats after the previous
/// one, which the packed product reads with that row stride instead of copying them; one product
/// per kernel row (the matching rows of the packed kernel) accumulates the window's sum. A
/// sequence is an image one row high: one product.
private struct SlidingWindows {
    /// The images [B, rows, columns, C]: the input itself, or a copy with the padding's zeros.
    let images: [Float]
    let rows: Int, columns: Int, channels: Int
    let grid: WindowGrid

    /// nil unless the windows are undilated and give some output.
    init?(_ grid: WindowGrid, _ input: Tensor) {
        // Undilated, the padded copy is at most a window larger than the input along each axis.
        guard grid.rows.dilation == 1, grid.columns.dilation == 1, grid.outputPositions > 0 else { return nil }
        self.grid = grid
        channels = input.shape[input.rank - 1]
        let (height, width) = (grid.inputSize[0], grid.inputSize[1])
        let before = [grid.rows.padBefore(height), grid.columns.padBefore(width)]
        let covered = [(grid.outputSize[0] - 1) * grid.rows.stride + grid.rows.size,
                       (grid.outputSize[1] - 1) * grid.columns.stride + grid.columns.size]
        guard before != [0, 0] || covered[0] > height || covered[1] > width else {
            images = input.scalars
            (rows, columns) = (height, width)
            return
        }
        // The cells the windows cover, with zeros around the input's.
        (rows, columns) = (covered[0], covered[1])
        let batch = input.shape[0], kept = max(0, min(width, columns - before[1])) * channels
        var padded = [Float](repeating: 0, count: batch * rows * columns * channels)
        for b in 0..<batch {
            for h in 0..<height where before[0] + h < rows {
                let from = (b * height + h) * width * channels
                let to = ((b * rows + before[0] + h) * columns + before[1]) * channels
                padded[to..<to + kept] = input.scalars[from..<from + kept]
            }
        }
        images = padded
    }

    /// The output rows `outputRows` (b, position) of the product by `kernel` (the packed
    /// [kh·kw·C, F]) plus `bias`, into `output` (F floats a row): one stretch of an output row
    /// at a time.
    func multiply(_ outputRows: Range<Int>, by kernel: PackedMatrix, bias: [Float]?,
                  into output: UnsafeMutablePointer<Float>) {
        let kernelRowWidth = grid.columns.size * channels, filters = kernel.columns
        let kernelRows = grid.rows.size == 1 ? [kernel] : (0..<grid.rows.size).map {
            PackedMatrix(rows: $0 * kernelRowWidth..<($0 + 1) * kernelRowWidth, of: kernel)
        }
        let outputWidth = grid.outputSize[1]
        images.withUnsafeBufferPointer { buffer in
            var row = outputRows.lowerBound
            while row < outputRows.upperBound {
                let (image, position) = row.quotientAndRemainder(dividingBy: grid.outputPositions)
                let (outputRow, outputColumn) = position.quotientAndRemainder(dividingBy: outputWidth)
                let count = min(outputRows.upperBound - row, outputWidth - outputColumn)
                for (tapRow, block) in kernelRows.enumerated() {
                    let inputRow = image * rows + outputRow * grid.rows.stride + tapRow
                    let a = buffer.baseAddress! + (inputRow * columns + outputColumn * grid.columns.stride) * channels
                    Kernels.gemm(m: count, a: a, lda: grid.columns.stride * channels, b: block,
                                 bias: tapRow == 0 ? bias : nil, c: output + row * filters, ldc: filters,
                                 accumulate: tapRow > 0, threads: 1)
                }
                row += count
            }
        }
    }
}
