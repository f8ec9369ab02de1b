import Foundation
@testable import RNNKit
import RNNKitTestSupport
import XCTest

/// The shared convolution grid against a direct convolution written from its definition: the
/// windows read in place (one row, undilated) and the unfolded ones (dilated, grouped, images),
/// on one thread and split among three, which must give the one-thread numbers bit for bit.
final class WindowGridTests: XCTestCase {
    /// output[b, i, j, f] = bias[f] + Σ over taps (p, q) and the group's channels c of
    /// input[b, i·stride − before + p·dilation, j·stride − before + q·dilation, c] · kernel[p, q, c, f]
    /// (each axis with its own window), in double precision, over images [B, H, W, C] with padded
    /// cells reading 0.
    private func directConvolution(_ input: Tensor, kernel: Tensor, bias: Tensor, groups: Int,
                                   windows: (rows: Window1D, columns: Window1D)) -> [Float] {
        let (batch, height, width, channels) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let filters = kernel.shape[3], groupChannels = channels / groups, groupFilters = filters / groups
        let (rows, columns) = windows
        let before = (rows.padBefore(height), columns.padBefore(width))
        var output: [Float] = []
        for b in 0..<batch {
            for i in 0..<rows.outputLength(height) {
                for j in 0..<columns.outputLength(width) {
                    for f in 0..<filters {
                        var sum = Double(bias.scalars[f])
                        let group = f / groupFilters
                        for p in 0..<rows.size {
                            let h = i * rows.stride - before.0 + p * rows.dilation
                            guard h >= 0 && h < height else { continue }
                            for q in 0..<columns.size {
                                let w = j * columns.stride - before.1 + q * columns.dilation
                                guard w >= 0 && w < width else { continue }
                                for c in 0..<groupChannels {
                                    let cell = ((b * height + h) * width + w) * channels + group * groupChannels + c
                                    sum += Double(input.scalars[cell])
                                        * Double(kernel.scalars[((p * columns.size + q) * groupChannels + c) * filters + f])
                                }
                            }
                        }
                        output.append(Float(sum))
                    }
                }
            }
        }
        return output
    }

    /// Convolves images [B, H, W, C] on one and three threads, linear and relu, against the
    /// direct sum; `rows` nil convolves sequences (the input one row high, the kernel 1D).
    private func assertConvolutions(_ cases: [(shape: [Int], filters: Int, groups: Int, rows: Window1D?, columns: Window1D)],
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        splitAnyWork()
        var generator = SeededGenerator(seed: 20_261_130)
        func random(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -1...1, using: &generator) })
        }
        // The activation runs on each thread's rows after the last group's product.
        let activations: [(Activation, (Float) -> Float)] = [(.linear, { $0 }), (.relu, { max($0, 0) })]
        for (shape, filters, groups, rowWindow, columns) in cases {
            let rows = rowWindow ?? WindowGrid.singleRow
            let input = random(shape), kernel = random([rows.size, columns.size, shape[3] / groups, filters])
            let bias = random([filters])
            let grid = try WindowGrid(rows: rows, columns: columns, input: [shape[1], shape[2]], "Conv", batch: shape[0])
            let want = directConvolution(input, kernel: kernel, bias: bias, groups: groups, windows: (rows, columns))
            // A sequence's convolution takes [B, T, C] and a kernel [k, C / groups, F].
            let gridInput = rowWindow == nil ? input.reshaped([shape[0], shape[2], shape[3]]) : input
            let gridKernel = rowWindow == nil ? kernel.reshaped(Array(kernel.shape.dropFirst())) : kernel
            for (activation, function) in activations {
                var oneThread: [Float] = []
                for threads in [1, 3] {
                    RNNKitRuntime.setThreadCount(threads)
                    let output = grid.convolve(gridInput, kernel: gridKernel, bias: bias, groups: groups,
                                               activation: activation)
                    let label = "\(shape), \(rows) × \(columns), groups \(groups), \(activation), \(threads) threads"
                    XCTAssertEqual(output.shape, [shape[0]] + grid.outputSize + [filters], label, file: file, line: line)
                    assertClose(output.scalars, want.map(function), within: 1e-5, label, file: file, line: line)
                    if threads == 1 {
                        oneThread = output.scalars
                    } else {
                        XCTAssertEqual(output.scalars, oneThread, "\(label): threads changed the numbers", file: file, line: line)
                    }
                }
            }
        }
    }

    func testSequenceConvolutionsMatchTheDirectSumOnEveryThreadCount() throws {
        // In place for every undilated window (valid with unused last steps, same and causal
        // padding, strides), unfolded otherwise (dilated, grouped).
        try assertConvolutions([
            ([3, 1, 17, 5], 7, 1, nil, Window1D(size: 5, stride: 1, padding: .valid)),
            ([2, 1, 16, 4], 18, 1, nil, Window1D(size: 3, stride: 3, padding: .valid)),
            ([3, 1, 13, 3], 5, 1, nil, Window1D(size: 4, stride: 2, padding: .same)),
            ([1, 1, 40, 6], 33, 1, nil, Window1D(size: 3, stride: 1, padding: .same)),
            ([2, 1, 11, 2], 4, 1, nil, Window1D(size: 3, stride: 2, padding: .causal)),
            ([2, 1, 2, 3], 4, 1, nil, Window1D(size: 5, stride: 1, padding: .same)),
            ([2, 1, 12, 3], 4, 1, nil, Window1D(size: 2, stride: 1, dilation: 3, padding: .causal)),
            ([3, 1, 10, 4], 6, 2, nil, Window1D(size: 3, stride: 1, padding: .same)),
        ])
    }

    func testImageConvolutionsMatchTheDirectSumOnEveryThreadCount() throws {
        // In place, one product per kernel row, for undilated windows (valid with unused last
        // cells, same padding, strides); unfolded when dilated or grouped.
        try assertConvolutions([
            ([2, 7, 9, 3], 5, 1, Window1D(size: 3, stride: 1, padding: .valid), Window1D(size: 3, stride: 1, padding: .valid)),
            ([3, 8, 7, 2], 17, 1, Window1D(size: 2, stride: 3, padding: .valid), Window1D(size: 3, stride: 2, padding: .valid)),
            ([2, 6, 5, 4], 6, 1, Window1D(size: 3, stride: 1, padding: .same), Window1D(size: 4, stride: 2, padding: .same)),
            ([1, 5, 6, 3], 4, 1, Window1D(size: 4, stride: 2, padding: .same), Window1D(size: 1, stride: 1, padding: .same)),
            ([2, 2, 3, 2], 3, 1, Window1D(size: 5, stride: 1, padding: .same), Window1D(size: 3, stride: 1, padding: .same)),
            ([2, 7, 7, 2], 3, 1, Window1D(size: 2, stride: 1, dilation: 2, padding: .same),
             Window1D(size: 3, stride: 1, padding: .same)),
            ([2, 5, 6, 4], 4, 2, Window1D(size: 3, stride: 1, padding: .same), Window1D(size: 3, stride: 1, padding: .same)),
        ])
    }

    func testPoolingIsTheSameOnEveryThreadCount() throws {
        splitAnyWork()
        var generator = SeededGenerator(seed: 7)
        let input = Tensor(shape: [3, 11, 5], scalars: (0..<165).map { _ in Float.random(in: -1...1, using: &generator) })
        for window in [Window1D(size: 3, stride: 2, padding: .same), Window1D(size: 2, stride: 2, padding: .valid)] {
            let grid = try window.grid(input, "MaxPooling1D")
            for reduction in [WindowGrid.Reduction.maximum, .average] {
                RNNKitRuntime.setThreadCount(1)
                let oneThread = grid.pool(input, reduction)
                RNNKitRuntime.setThreadCount(3)
                XCTAssertEqual(grid.pool(input, reduction).scalars, oneThread.scalars, "\(window), \(reduction)")
                // The first output step's window, without its padded steps.
                let steps = (0..<window.size).map { $0 - window.padBefore(11) }.filter { $0 >= 0 }
                let first = (0..<5).map { c in
                    let cells = steps.map { input.scalars[$0 * 5 + c] }
                    return reduction == .maximum ? cells.max()! : cells.reduce(0, +) / Float(cells.count)
                }
                XCTAssertEqual(Array(oneThread.scalars[0..<5]), first, "\(window), \(reduction)")
            }
        }
    }
}
