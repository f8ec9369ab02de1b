import CRNNKitKernels
import Foundation
@testable import RNNKit
import RNNKitTestSupport
import XCTest

/// Every kernel path this CPU can run (portable, AVX2, AVX-512) gives Keras's outputs, and two
/// threads sharing the units of a small batch give the one-thread numbers bit for bit.
final class KernelPathTests: XCTestCase {
    private func maximumError(_ output: Tensor, _ want: Tensor) -> Float {
        zip(output.scalars, want.scalars).map { abs($0 - $1) }.max() ?? .infinity
    }

    func testTheBestPathIsTheDefaultAndLowerOnesCanBeForced() {
        XCTAssertTrue(KernelPath.available.contains(.portable))
        XCTAssertEqual(KernelPath.available.first, .portable)
        if ProcessInfo.processInfo.environment["RNNKIT_KERNEL"] == nil {
            XCTAssertEqual(KernelPath.current, KernelPath.available.last)
        }
        #if arch(x86_64)
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        if flags.contains(" avx512bw") && flags.contains(" avx512vl") && flags.contains(" avx512dq") {
            XCTAssertTrue(KernelPath.available.contains(.avx512))
        }
        if flags.contains(" avx2") && flags.contains(" fma") { XCTAssertTrue(KernelPath.available.contains(.avx2)) }
        #endif
    }

    /// The fixture comparison of InferenceTests (every fixture, every file format, ≤ 1e-5 from
    /// Keras), at batch 1 to 4 on one thread and at four times the batch on three threads.
    func testEveryPathMatchesKerasOutputs() throws {
        splitAnyWork()
        try onEveryKernelPath { path in
            var checked = 0, worst: Float = 0
            for fixture in try FixtureFiles.manifest() {
                let inputs = try FixtureFiles.inputs(of: fixture.name)
                for writer in fixture.writers {
                    var expected: [Tensor] = []
                    while case let file = FixtureFiles.path("\(fixture.name)/expected_\(writer)_\(expected.count).npy"),
                          FileManager.default.fileExists(atPath: file) {
                        expected.append(try TensorFile.read(file)[0].tensor)
                    }
                    for (modelPath, weightsPath) in FixtureFiles.files(of: fixture.name, writer: writer) {
                        let predictor = try Predictor(contentsOf: modelPath, weights: weightsPath)
                        for threads in [1, 2] {
                            RNNKitRuntime.setThreadCount(threads)
                            let outputs = try predictor.predict(inputs)
                            XCTAssertEqual(outputs.count, expected.count, modelPath)
                            for (output, want) in zip(outputs, expected) {
                                XCTAssertEqual(output.shape, want.shape, modelPath)
                                let error = maximumError(output, want)
                                XCTAssertLessThanOrEqual(error, 1e-5, "\(modelPath) on \(path), \(threads) threads")
                                worst = max(worst, error)
                            }
                        }
                        checked += 1
                    }
                }
            }
            print("KernelPathTests: \(path): \(checked) model files, worst max abs error \(worst)")
            XCTAssertGreaterThanOrEqual(checked, 75)
        }
    }

    /// tanh and sigmoid within 4e-7 of libm's float results (what the kernels' header promises)
    /// on every path, over a dense sweep of [-40, 40] (both clamps, at ±8 and ±16, and far past
    /// them), tiny and huge magnitudes and infinities; NaN stays NaN.
    func testEveryPathKeepsTanhAndSigmoidWithinLibmRounding() {
        let extremes: [Float] = [0, -0, 1e-30, -1e-30, .leastNonzeroMagnitude, 1e-8, -1e-8, 88, -88, 200, -200, 1e6, -1e6,
                                 1e30, -1e30, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, -.infinity]
        let inputs = stride(from: Float(-40), through: 40, by: 1.7e-4).map { $0 } + extremes
        onEveryKernelPath { path in
            for (activation, reference) in [(Activation.tanh, { (x: Float) in Foundation.tanh(x) }),
                                            (.sigmoid, { (x: Float) in 1 / (1 + Foundation.exp(-x)) })] {
                var values = inputs + [.nan]
                values.withUnsafeMutableBufferPointer { activation.apply($0.baseAddress!, count: $0.count) }
                XCTAssertTrue(values.removeLast().isNaN, "\(activation) of NaN on \(path)")
                let worst = assertClose(values, inputs.map(reference), within: 4e-7, "\(activation) on \(path)")
                print("KernelPathTests: \(activation) on \(path): worst error \(worst) from libm")
            }
        }
    }

    /// The fused LSTM and GRU steps (Keras's default activations) against their equations in
    /// double precision, on every path: pre-activations in [-10, 10] (each activation's clamp and
    /// both slopes), 41 rows of 83 units (no multiple of a vector width) and shares of the units
    /// that start mid-vector: all, 70 (a two-vector stretch and a remainder), 16. Within 1e-6 of
    /// the exact values relative to 1 + |c| for the LSTM (float's rounding of f·c) and to
    /// 1 + |h·R_h + b_h| for the GRU (the reset gate's rounding, scaled by it); the other units'
    /// columns are not touched, and the GRU gives the same numbers in place (h_out = h).
    func testEveryPathStepsTheLSTMAndGRUCellsAccurately() {
        var generator = SeededGenerator(seed: "fused cell steps")
        let batch = 41, units = 83
        func random(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -10...10, using: &generator) } }
        func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
        let lstmGates = random(batch * 4 * units), cell = random(batch * units), state = random(batch * units)
        let gruInput = random(batch * 3 * units), gruRecurrent = random(batch * 3 * units)
        let gruState = (0..<batch * units).map { _ in Float.random(in: -1...1, using: &generator) }
        onEveryKernelPath { path in
            var worstLSTM = 0.0, worstGRU = 0.0
            for (first, count) in [(0, units), (5, 70), (17, 16)] {
                let message = "units \(first)..<\(first + count) on \(path), \(generator)"
                var h = state, c = cell
                rnnkit_lstm_step(batch, units, first, count, lstmGates, &h, &c, 0)
                var gruOut = [Float](repeating: 42, count: batch * units), inPlace = gruState
                rnnkit_gru_step(batch, units, first, count, gruInput, gruRecurrent, gruState, &gruOut, 0)
                inPlace.withUnsafeMutableBufferPointer {
                    rnnkit_gru_step(batch, units, first, count, gruInput, gruRecurrent, $0.baseAddress, $0.baseAddress, 0)
                }
                for row in 0..<batch {
                    for unit in 0..<units {
                        let index = row * units + unit
                        guard (first..<first + count).contains(unit) else {
                            XCTAssertEqual([h[index], c[index], gruOut[index], inPlace[index]],
                                           [state[index], cell[index], 42, gruState[index]], message)
                            continue
                        }
                        let gate = { (block: Int) in Double(lstmGates[(row * 4 + block) * units + unit]) }
                        let newCell = sigmoid(gate(1)) * Double(cell[index]) + sigmoid(gate(0)) * Foundation.tanh(gate(2))
                        let scale = 1 + abs(Double(cell[index]))
                        worstLSTM = max(worstLSTM, abs(Double(c[index]) - newCell) / scale,
                                        abs(Double(h[index]) - sigmoid(gate(3)) * Foundation.tanh(newCell)) / scale)
                        let x = { (block: Int) in Double(gruInput[(row * 3 + block) * units + unit]) }
                        let r = { (block: Int) in Double(gruRecurrent[(row * 3 + block) * units + unit]) }
                        let update = sigmoid(x(0) + r(0)), reset = sigmoid(x(1) + r(1))
                        let newState = update * Double(gruState[index]) + (1 - update) * Foundation.tanh(x(2) + reset * r(2))
                        worstGRU = max(worstGRU, abs(Double(gruOut[index]) - newState) / (1 + abs(r(2))))
                        XCTAssertEqual(inPlace[index], gruOut[index], message)
                    }
                }
                XCTAssertLessThanOrEqual(worstLSTM, 1e-6, "LSTM step, \(message)")
                XCTAssertLessThanOrEqual(worstGRU, 1e-6, "GRU step, \(message)")
            }
            print("KernelPathTests: steps on \(path): worst relative error LSTM \(worstLSTM), GRU \(worstGRU)")
        }
    }

    /// States far beyond any a sequence reaches by itself (a huge initial state, up to float's
    /// largest), where the fused steps' common denominators would overflow: on every path, with
    /// `huge_states`, the LSTM and GRU steps stay within 1e-6 of the exact equations relative to
    /// 1 + |state| and finite; the ordinary states beside them keep the bits they have without it.
    /// `rnnkit_has_huge_state` draws the line at 2^96 and counts infinity and NaN in.
    func testEveryPathStepsHugeStatesLikeTheEquations() {
        var generator = SeededGenerator(seed: "huge states")
        let units = 37, magnitudes: [Float] = [0.5, 3, 1e20, 0x1p96, 1e31, 1e35, 3e38]
        let states = (0..<units).map { magnitudes[$0 % magnitudes.count] * ($0 % 2 == 0 ? 1 : -1) }
        let lstmGates = (0..<4 * units).map { _ in Float.random(in: -10...10, using: &generator) }
        let gruInput = (0..<3 * units).map { _ in Float.random(in: -10...10, using: &generator) }
        let gruRecurrent = (0..<3 * units).map { _ in Float.random(in: -10...10, using: &generator) }
        func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
        XCTAssertEqual(rnnkit_has_huge_state([0x1p96, -0x1p96, 1, 0], 4), 0)
        for huge: Float in [Float(0x1p96).nextUp, -1e31, .infinity, -.infinity, .nan] {
            XCTAssertEqual(rnnkit_has_huge_state([1, huge, 2], 3), 1, "\(huge)")
        }
        onEveryKernelPath { path in
            var h = [Float](repeating: 0, count: units), c = states, plainH = h, plainC = states
            rnnkit_lstm_step(1, units, 0, units, lstmGates, &h, &c, 1)
            rnnkit_lstm_step(1, units, 0, units, lstmGates, &plainH, &plainC, 0)
            var gruOut = [Float](repeating: 0, count: units), plainGRU = gruOut
            rnnkit_gru_step(1, units, 0, units, gruInput, gruRecurrent, states, &gruOut, 1)
            rnnkit_gru_step(1, units, 0, units, gruInput, gruRecurrent, states, &plainGRU, 0)
            for unit in 0..<units {
                let state = Double(states[unit]), message = "unit \(unit), state \(state) on \(path)"
                let gate = { (block: Int) in Double(lstmGates[block * units + unit]) }
                let newCell = sigmoid(gate(1)) * state + sigmoid(gate(0)) * Foundation.tanh(gate(2))
                XCTAssertLessThanOrEqual(abs(Double(c[unit]) - newCell) / (1 + abs(state)), 1e-6, message)
                XCTAssertLessThanOrEqual(abs(Double(h[unit]) - sigmoid(gate(3)) * Foundation.tanh(newCell)), 1e-6, message)
                let x = { (block: Int) in Double(gruInput[block * units + unit]) }
                let r = { (block: Int) in Double(gruRecurrent[block * units + unit]) }
                let update = sigmoid(x(0) + r(0)), reset = sigmoid(x(1) + r(1))
                let newState = update * state + (1 - update) * Foundation.tanh(x(2) + reset * r(2))
                XCTAssertLessThanOrEqual(abs(Double(gruOut[unit]) - newState) / (1 + abs(state) + abs(r(2))), 1e-6, message)
                XCTAssertTrue(c[unit].isFinite && h[unit].isFinite && gruOut[unit].isFinite, message)
                if abs(state) <= 0x1p96 {
                    XCTAssertEqual([h[unit], c[unit], gruOut[unit]], [plainH[unit], plainC[unit], plainGRU[unit]], message)
                }
            }
        }
    }

    /// An LSTM and a GRU started from huge states (a Dense layer's output can be one) give the
    /// numbers of the equations in double precision, finite, within the steps' bound: 1e-6
    /// relative to 1 + |the state a step starts from|. The LSTM over several steps (its huge cell
    /// state stays huge); the GRU over one, since its gates' sigmoid is exact to 1e-7 absolute,
    /// which a huge state multiplies into a state no longer huge but far from the exact one.
    func testRecurrentLayersStartingFromHugeStatesFollowTheEquations() throws {
        var generator = SeededGenerator(seed: "huge initial states")
        let features = 3, units = 4
        func random(_ count: Int, scale: Float) -> [Float] { (0..<count).map { _ in Float.random(in: -scale...scale, using: &generator) } }
        func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
        let input = random(6 * features, scale: 1), start: [Float] = [1e35, -3e37, 2e31, 0.5]
        try onEveryKernelPath { path in
            for (cell, steps) in [(RecurrentLayer.Cell.lstm(unitForgetBias: true), 6), (.gru(resetAfter: true), 1)] {
                let width = cell.gateCount * units
                let options = RecurrentOptions(
                    units: units, activation: .tanh, recurrentActivation: .sigmoid, useBias: true,
                    returnSequences: true, returnState: true, goBackwards: false, stateful: false, unroll: false,
                    zeroOutputForMask: false, dropout: 0, recurrentDropout: 0)
                let layer = RecurrentLayer(cell: cell, options: options)
                let kernel = random(features * width, scale: 0.5), recurrent = random(units * width, scale: 0.5)
                let bias = random(cell == .lstm(unitForgetBias: true) ? width : 2 * width, scale: 0.5)
                let weights = ["kernel": Tensor(shape: [features, width], scalars: kernel),
                               "recurrent_kernel": Tensor(shape: [units, width], scalars: recurrent),
                               "bias": Tensor(shape: cell == .lstm(unitForgetBias: true) ? [width] : [2, width], scalars: bias)]
                let small: [Float] = [0.1, -0.2, 0.3, 0.4]
                let initial = cell == .lstm(unitForgetBias: true) ? [small, start] : [start]
                let (outputs, _) = try layer.forward(
                    [LayerValue(Tensor(shape: [1, steps, features], scalars: Array(input.prefix(steps * features))))]
                        + initial.map { LayerValue(Tensor(shape: [1, units], scalars: $0)) },
                    weights: weights, carry: nil)
                // The equations in double precision, Keras's gate order (i, f, c, o; z, r, h).
                var h = initial[0].map(Double.init), c = start.map(Double.init), sequence: [Double] = []
                var scales: [Double] = []  // 1 + |the state each output's step started from|
                for t in 0..<steps {
                    scales += (0..<units).map { 1 + abs(cell == .lstm(unitForgetBias: true) ? c[$0] : h[$0]) }
                    func product(_ column: Int, _ rows: [Double], _ matrix: [Float]) -> Double {
                        rows.indices.reduce(0.0) { $0 + rows[$1] * Double(matrix[$1 * width + column]) }
                    }
                    let x = (0..<features).map { Double(input[t * features + $0]) }
                    if cell == .lstm(unitForgetBias: true) {
                        let z = (0..<width).map { product($0, x, kernel) + product($0, h, recurrent) + Double(bias[$0]) }
                        c = (0..<units).map { sigmoid(z[units + $0]) * c[$0] + sigmoid(z[$0]) * Foundation.tanh(z[2 * units + $0]) }
                        h = (0..<units).map { sigmoid(z[3 * units + $0]) * Foundation.tanh(c[$0]) }
                    } else {
                        let xz = (0..<width).map { product($0, x, kernel) + Double(bias[$0]) }
                        let hz = (0..<width).map { product($0, h, recurrent) + Double(bias[width + $0]) }
                        h = (0..<units).map { u in
                            let update = sigmoid(xz[u] + hz[u]), reset = sigmoid(xz[units + u] + hz[units + u])
                            return update * h[u] + (1 - update) * Foundation.tanh(xz[2 * units + u] + reset * hz[2 * units + u])
                        }
                    }
                    sequence += h
                }
                let name = "\(cell) on \(path)"
                let got = outputs[0].tensor.scalars + outputs.dropFirst().flatMap(\.tensor.scalars)
                let lastScales = Array(scales.suffix(units))
                let expected = sequence + (cell == .lstm(unitForgetBias: true) ? h + c : h)
                scales += cell == .lstm(unitForgetBias: true) ? lastScales + lastScales : lastScales
                XCTAssertEqual(got.count, expected.count, name)
                for (index, (value, exact)) in zip(got, expected).enumerated() {
                    XCTAssertTrue(value.isFinite, "\(name): value \(index) is \(value)")
                    XCTAssertLessThanOrEqual(abs(Double(value) - exact) / scales[index], 1e-6, "\(name): value \(index)")
                }
            }
        }
    }

    /// The packed product within float rounding of a double-precision product, forward and
    /// backward alike, on every path (shapes that reach every block size of each).
    func testEveryPathComputesThePackedProductAccurately() {
        var generator = SystemRandomNumberGenerator()
        onEveryKernelPath { path in
            for (m, k, n) in [(1, 9, 5), (1, 40, 200), (2, 3, 47), (5, 17, 33), (13, 33, 37), (16, 20, 64),
                              (25, 7, 90), (32, 64, 96), (100, 5, 17)] {
                let a = (0..<m * k).map { _ in Float.random(in: -1...1, using: &generator) }
                let b = Tensor(shape: [k, n], scalars: (0..<k * n).map { _ in Float.random(in: -1...1, using: &generator) })
                let bias = (0..<n).map { _ in Float.random(in: -1...1, using: &generator) }
                let c = Kernels.affine(a, rows: m, kernel: PackedMatrix(b), bias: bias)
                var worst = 0.0
                for row in 0..<m {
                    for column in 0..<n {
                        var sum = Double(bias[column])
                        for index in 0..<k { sum += Double(a[row * k + index]) * Double(b.scalars[index * n + column]) }
                        worst = max(worst, abs(sum - Double(c[row * n + column])))
                    }
                }
                XCTAssertLessThan(worst, 1e-4, "m \(m) k \(k) n \(n) on \(path)")
                // Going over the panels backward gives the very same numbers.
                var backward = [Float](repeating: 0, count: m * n)
                a.withUnsafeBufferPointer { a in
                    backward.withUnsafeMutableBufferPointer {
                        Kernels.gemm(m: m, a: a.baseAddress!, lda: k, b: PackedMatrix(b), bias: bias, c: $0.baseAddress!,
                                     ldc: n, accumulate: false, backward: true)
                    }
                }
                XCTAssertEqual(backward, c, "backward, m \(m) k \(k) n \(n) on \(path)")
            }
        }
    }

    /// Synthetic layers large enough for two threads to share the units of a batch of 1 to 3
    /// rows (each takes whole panels of 16 columns): every cell kind, default and other
    /// activations, both directions, masks, sequences: the outputs and states must be those of
    /// one thread bit for bit, on every path.
    func testTwoThreadsSharingTheUnitsGiveTheOneThreadNumbers() throws {
        splitAnyWork()
        var generator = SystemRandomNumberGenerator()
        func random(_ shape: [Int], scale: Float = 0.3) -> Tensor {
            Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -scale...scale, using: &generator) })
        }
        let cells: [(RecurrentLayer.Cell, Activation, Activation)] = [
            (.lstm(unitForgetBias: true), .tanh, .sigmoid), (.lstm(unitForgetBias: true), .relu, .hardSigmoid(keras2: false)),
            (.gru(resetAfter: true), .tanh, .sigmoid), (.gru(resetAfter: true), .softsign, .sigmoid),
            (.gru(resetAfter: false), .tanh, .sigmoid), (.simpleRNN, .tanh, .sigmoid), (.simpleRNN, .relu, .sigmoid),
        ]
        let sharedBefore = RecurrentLoop.unitSharingRuns.load(ordering: .relaxed)
        let ridesBefore = RecurrentLoop.ridingRuns.load(ordering: .relaxed)
        try onEveryKernelPath { path in
            for (cell, activation, recurrentActivation) in cells {
                for (units, batch, goBackwards, masked, steps) in [(32, 1, false, false, 9), (48, 2, true, true, 9),
                                                                    (64, 3, false, true, 9), (32, 1, true, true, 30)] {
                    let features = 7, width = cell.gateCount * units
                    let options = RecurrentOptions(
                        units: units, activation: activation, recurrentActivation: recurrentActivation, useBias: true,
                        returnSequences: true, returnState: true, goBackwards: goBackwards, stateful: false, unroll: false,
                        zeroOutputForMask: masked && batch == 2, dropout: 0, recurrentDropout: 0)
                    let layer = RecurrentLayer(cell: cell, options: options)
                    let weights = ["kernel": random([features, width]), "recurrent_kernel": random([units, width]),
                                   "bias": cell == .gru(resetAfter: true) ? random([2, width]) : random([width])]
                    let mask = masked ? (0..<batch * steps).map { $0 % 4 != 2 } : nil
                    let input = LayerValue(random([batch, steps, features], scale: 1), mask: mask)
                    var results: [[Tensor]] = []
                    for threads in [1, 2] {
                        RNNKitRuntime.setThreadCount(threads)
                        let (outputs, carry) = try layer.forward([input], weights: weights, carry: nil)
                        results.append(outputs.map(\.tensor) + [Tensor(shape: [carry.states.count], scalars: carry.states),
                                                                  Tensor(shape: [carry.lastOutput.count], scalars: carry.lastOutput)])
                    }
                    XCTAssertEqual(results[0], results[1], "\(cell) \(activation) units \(units) batch \(batch) on \(path)")
                    XCTAssertFalse(results[0][0].scalars.contains { !$0.isFinite })
                }
            }
        }
        // Every cell but GRU without reset_after shared its units, in each of the four shapes; at
        // batch 1 on the AVX-512 path, the projection rode along (on one thread and on two).
        let shared = RecurrentLoop.unitSharingRuns.load(ordering: .relaxed) - sharedBefore
        XCTAssertGreaterThanOrEqual(shared, 6 * 4 * KernelPath.available.count)
        let rides = RecurrentLoop.ridingRuns.load(ordering: .relaxed) - ridesBefore
        XCTAssertGreaterThanOrEqual(rides, KernelPath.available.contains(.avx512) ? 7 * 2 + 6 * 2 : 0)
    }
}

/// The input projection that rides along a batch-1 recurrent product (`Kernels.gemv`) and the
/// recurrent loop that uses it.
final class RidingProjectionTests: XCTestCase {
    /// The product and the riding panels (inputs given k-major) are the numbers of the two
    /// products apart, bit for bit, on every path: partial panels, a projection with more or fewer
    /// features than the product's k, more riding panels than the product has groups, both
    /// directions, with and without biases and accumulation. Columns outside the riding panels stay
    /// untouched.
    func testTheRidingProjectionGivesTheNumbersOfTheTwoProducts() {
        var generator = SeededGenerator(seed: 14)
        func random(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1...1, using: &generator) } }
        onEveryKernelPath { path in
            let rows = RidingProjection.rows
            // (columns of the product, its k, projection columns, projection k, riding panels)
            for (n, k, projectedColumns, features, panels) in [(5, 9, 5, 3, 0..<1), (64, 16, 64, 64, 1..<3),
                                                               (200, 40, 200, 7, 0..<13), (48, 7, 48, 30, 2..<3),
                                                               (16, 12, 64, 20, 0..<4), (1024, 256, 1024, 64, 8..<16)] {
                let recurrent = PackedMatrix(Tensor(shape: [k, n], scalars: random(k * n)))
                let kernel = PackedMatrix(Tensor(shape: [features, projectedColumns], scalars: random(features * projectedColumns)))
                let h = random(k), input = random(rows * features), start = random(n)
                let kMajor = (0..<features * rows).map { input[$0 % rows * features + $0 / rows] }
                for (accumulate, backward, biased) in [(false, false, true), (true, true, false), (true, false, true)] {
                    let bias = biased ? random(n) : nil, projectionBias = biased ? random(projectedColumns) : nil
                    let sentinel = Float(7)
                    var apart = (c: start, out: [Float](repeating: sentinel, count: rows * projectedColumns))
                    var riding = apart
                    let columns = panels.lowerBound * 16..<min(panels.upperBound * 16, projectedColumns)
                    h.withUnsafeBufferPointer { h in
                        input.withUnsafeBufferPointer { input in
                        kMajor.withUnsafeBufferPointer { kMajor in
                            Kernels.gemm(m: 1, a: h.baseAddress!, lda: k, b: recurrent, bias: bias, c: &apart.c, ldc: n,
                                         accumulate: accumulate, backward: backward, threads: 1)
                            withPointer(to: projectionBias) { projectionBias in
                                Kernels.gemm(m: rows, a: input.baseAddress!, lda: features, b: kernel, columns: columns,
                                             bias: projectionBias, c: &apart.out, ldc: projectedColumns, accumulate: false)
                            }
                            riding.out.withUnsafeMutableBufferPointer { out in
                                withPointer(to: bias) { bias in
                                    withPointer(to: projectionBias) { projectionBias in
                                        Kernels.gemv(a: h.baseAddress!, b: recurrent, columns: 0..<n, bias: bias, c: &riding.c,
                                                     accumulate: accumulate, backward: backward,
                                                     riding: RidingProjection(input: kMajor.baseAddress!, kernel: kernel,
                                                                              bias: projectionBias, output: out.baseAddress!,
                                                                              panels: panels))
                                    }
                                }
                            }
                        }}
                    }
                    let shape = "n \(n) k \(k), projection \(projectedColumns) × \(features), panels \(panels)"
                    XCTAssertEqual(riding.c, apart.c, "product, \(shape), accumulate \(accumulate) on \(path)")
                    XCTAssertEqual(riding.out, apart.out, "projection, \(shape), bias \(biased) on \(path)")
                    XCTAssertEqual(riding.out.filter { $0 == sentinel }.count, rows * (projectedColumns - columns.count), shape)
                }
            }
        }
    }

    /// A recurrent layer at batch 1 on one thread (where the projection rides along) gives the
    /// numbers of the same row in a batch of two (where it does not), bit for bit: every cell
    /// kind, both directions, masks, sequence lengths around the blocks of riding rows and past
    /// one chunk of projected steps, on every path.
    func testBatchOneGivesTheBatchNumbersWithTheProjectionRiding() throws {
        var generator = SeededGenerator(seed: 41)
        func random(_ shape: [Int], scale: Float = 0.3) -> Tensor {
            Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -scale...scale, using: &generator) })
        }
        RNNKitRuntime.setThreadCount(1)
        let ridesBefore = RecurrentLoop.ridingRuns.load(ordering: .relaxed)
        var runs = 0
        try onEveryKernelPath { path in
            for cell in [RecurrentLayer.Cell.lstm(unitForgetBias: true), .gru(resetAfter: true), .gru(resetAfter: false),
                         .simpleRNN] {
                for (steps, features, goBackwards, masked) in [(1, 7, false, false), (8, 40, true, false), (9, 7, false, true),
                                                               (23, 40, true, true), (300, 5, false, false), (300, 5, true, true)] {
                    let units = 32, width = cell.gateCount * units
                    let options = RecurrentOptions(
                        units: units, activation: .tanh, recurrentActivation: .sigmoid, useBias: true,
                        returnSequences: true, returnState: true, goBackwards: goBackwards, stateful: false, unroll: false,
                        zeroOutputForMask: masked, dropout: 0, recurrentDropout: 0)
                    let layer = RecurrentLayer(cell: cell, options: options)
                    let weights = ["kernel": random([features, width]), "recurrent_kernel": random([units, width]),
                                   "bias": cell == .gru(resetAfter: true) ? random([2, width]) : random([width])]
                    let pair = random([2, steps, features], scale: 1)
                    let mask = masked ? (0..<2 * steps).map { $0 % 5 != 3 } : nil
                    let alone = LayerValue(Tensor(shape: [1, steps, features], scalars: Array(pair.scalars.prefix(steps * features))),
                                           mask: mask.map { Array($0.prefix(steps)) })
                    let (batched, batchedCarry) = try layer.forward([LayerValue(pair, mask: mask)], weights: weights, carry: nil)
                    let (single, singleCarry) = try layer.forward([alone], weights: weights, carry: nil)
                    runs += 1
                    let name = "\(cell) steps \(steps) features \(features) backwards \(goBackwards) masked \(masked) on \(path)"
                    XCTAssertEqual(single[0].tensor.scalars, Array(batched[0].tensor.scalars.prefix(steps * units)), name)
                    for (state, batchedState) in zip(single.dropFirst(), batched.dropFirst()) {
                        XCTAssertEqual(state.tensor.scalars, Array(batchedState.tensor.scalars.prefix(units)), name)
                    }
                    XCTAssertEqual(singleCarry.lastOutput, Array(batchedCarry.lastOutput.prefix(units)), name)
                    XCTAssertFalse(single[0].tensor.scalars.contains { !$0.isFinite }, name)
                }
            }
        }
        // Every batch-1 run on the AVX-512 path rode, and none on the others.
        let rides = RecurrentLoop.ridingRuns.load(ordering: .relaxed) - ridesBefore
        XCTAssertEqual(rides, runs / KernelPath.available.count * KernelPath.available.filter { $0 == .avx512 }.count)
    }
}
