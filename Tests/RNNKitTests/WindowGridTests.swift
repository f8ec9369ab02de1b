import Foundation
@testable import RNNKit
import RNNKitTestSupport
import XCTest

/// The shared convolution grid against a direct convolution written from its definition: the
/// windows read in place (one row, undilated) and the unfolded ones (dilated, grouped, images),
/// on one thread and split among three, which must give the one-thread numbers bit for bit.
final class WindowGridTests: XCTestCase {
    /// Lets the runtime split even tiny work among threads, until the test ends.
    private func splitAnyWork() {
        let defaultWork = RNNKitRuntime.multiplyAddsPerThread
        RNNKitRuntime.multiplyAddsPerThread = 1
        addTeardownBlock {
            RNNKitRuntime.multiplyAddsPerThread = defaultWork
            RNNKitRuntime.setThreadCount(1)
        }
    }

    /// output[b, o, f] = bias[f] + Σ over taps k and the group's channels c of
    /// input[b, o·stride − before + k·dilation, c] · kernel[k, c, f], in double precision, over
    /// sequences [B, T, C] with padded steps reading 0.
    private func directConvolution(_ input: Tensor, kernel: Tensor, bias: Tensor, groups: Int,
                                   window: Window1D) -> [Float] {
        let (batch, steps, channels) = (input.shape[0], input.shape[1], input.shape[2])
        let filters = kernel.shape[2], groupChannels = channels / groups, groupFilters = filters / groups
        let outputSteps = window.outputLength(steps), before = window.padBefore(steps)
        var output: [Float] = []
        for b in 0..<batch {
            for o in 0..<outputSteps {
                for f in 0..<filters {
                    var sum = Double(bias.scalars[f])
                    let group = f / groupFilters
                    for k in 0..<window.size {
                        let t = o * window.stride - before + k * window.dilation
                        guard t >= 0 && t < steps else { continue }
                        for c in 0..<groupChannels {
                            sum += Double(input.scalars[(b * steps + t) * channels + group * groupChannels + c])
                                * Double(kernel.scalars[(k * groupChannels + c) * filters + f])
                        }
                    }
                    output.append(Float(sum))
                }
            }
        }
        return output
    }

    func testSequenceConvolutionsMatchTheDirectSumOnEveryThreadCount() throws {
        splitAnyWork()
        var generator = SeededGenerator(seed: 20_261_130)
        func random(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -1...1, using: &generator) })
        }
        // (batch, steps, channels, filters, groups, window): in place for every undilated window
        // (valid with unused last steps, same and causal padding, strides), unfolded otherwise.
        let cases: [(Int, Int, Int, Int, Int, Window1D)] = [
            (3, 17, 5, 7, 1, Window1D(size: 5, stride: 1, padding: .valid)),
            (2, 16, 4, 18, 1, Window1D(size: 3, stride: 3, padding: .valid)),
            (3, 13, 3, 5, 1, Window1D(size: 4, stride: 2, padding: .same)),
            (1, 40, 6, 33, 1, Window1D(size: 3, stride: 1, padding: .same)),
            (2, 11, 2, 4, 1, Window1D(size: 3, stride: 2, padding: .causal)),
            (2, 2, 3, 4, 1, Window1D(size: 5, stride: 1, padding: .same)),
            (2, 12, 3, 4, 1, Window1D(size: 2, stride: 1, dilation: 3, padding: .causal)),
            (3, 10, 4, 6, 2, Window1D(size: 3, stride: 1, padding: .same)),
        ]
        // The activation runs on each thread's rows after the last group's product.
        let activations: [(Activation, (Float) -> Float)] = [(.linear, { $0 }), (.relu, { max($0, 0) })]
        for (batch, steps, channels, filters, groups, window) in cases {
            let input = random([batch, steps, channels]), kernel = random([window.size, channels / groups, filters])
            let bias = random([filters])
            let grid = try window.grid(input, "Conv1D")
            let want = directConvolution(input, kernel: kernel, bias: bias, groups: groups, window: window)
            for (activation, function) in activations {
                var oneThread: [Float] = []
                for threads in [1, 3] {
                    RNNKitRuntime.setThreadCount(threads)
                    let output = grid.convolve(input, kernel: kernel, bias: bias, groups: groups, activation: activation)
                    let label = "\(window), groups \(groups), \(activation), \(threads) threads"
                    XCTAssertEqual(output.shape, [batch, 1, window.outputLength(steps), filters])
                    assertClose(output.scalars, want.map(function), within: 1e-5, label)
                    if threads == 1 {
                        oneThread = output.scalars
                    } else {
                        XCTAssertEqual(output.scalars, oneThread, "\(label): threads changed the numbers")
                    }
                }
            }
        }
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
