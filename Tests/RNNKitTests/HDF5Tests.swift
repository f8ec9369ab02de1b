import CHDF5
import Foundation
import RNNKitTestSupport
import XCTest

@testable import RNNKit

final class HDF5Tests: TemporaryFolderTestCase {

    // MARK: - Round trips

    func testGroupsAttributesAndTensorsRoundTrip() throws {
        let file = temporary("model.h5")
        let kernel = Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 0.1, 1e-30, .greatestFiniteMagnitude])
        do {
            let output = try HDF5File.create(file)
            let root = output.root
            try root.setStringAttribute("backend", "tensorflow")
            try root.setStringAttribute("note", "héllo ✓ 😀")
            let weights = try root.createGroup("model_weights")
            try weights.setStringListAttribute("layer_names", ["dense", "lstm"])
            let dense = try weights.createGroup("dense")
            XCTAssertEqual(dense.path, "/model_weights/dense")
            try dense.writeTensor("dense/kernel:0", kernel)
            try dense.writeTensor("dense/bias:0", Tensor(shape: [3], scalars: [1, 2, 3]))
            try dense.writeTensor("scalar", Tensor(shape: [], scalars: [42]))
            try dense.writeTensor("empty", Tensor(zeros: [0]))
            // writeTensor creates missing groups on the way.
            try root.writeTensor("model_weights/lstm/lstm/lstm_cell/kernel:0", Tensor(zeros: [4, 8]))
            try output.flush()
        }

        let input = try HDF5File.open(file)
        XCTAssertEqual(input.path, file)
        XCTAssertGreaterThan(try input.fileSize, 0)
        let root = input.root
        XCTAssertEqual(root.path, "/")
        XCTAssertEqual(try root.attributeNames(), ["backend", "note"])
        XCTAssertEqual(try root.stringAttribute("backend"), "tensorflow")
        XCTAssertEqual(try root.stringAttribute("note"), "héllo ✓ 😀")
        XCTAssertEqual(try root.childNames(), ["model_weights"])

        let weights = try root.group("model_weights")
        XCTAssertEqual(try weights.childNames(), ["dense", "lstm"])
        XCTAssertEqual(try weights.stringListAttribute("layer_names"), ["dense", "lstm"])
        XCTAssertEqual(try weights.kind(of: "dense"), .group)
        XCTAssertEqual(try weights.kind(of: "dense/dense/kernel:0"), .dataset)

        let dense = try weights.group("dense")
        XCTAssertEqual(try dense.readTensor("dense/kernel:0"), kernel)
        XCTAssertEqual(try dense.readTensor("dense/bias:0"), Tensor(shape: [3], scalars: [1, 2, 3]))
        XCTAssertEqual(try dense.readTensor("scalar"), Tensor(shape: [], scalars: [42]))
        XCTAssertEqual(try dense.readTensor("empty"), Tensor(zeros: [0]))
        XCTAssertEqual(try dense.datasetShape("dense/kernel:0"), [2, 3])
        XCTAssertEqual(try dense.datasetShape("scalar"), [])
        XCTAssertEqual(try weights.datasetShape("lstm/lstm/lstm_cell/kernel:0"), [4, 8])
        XCTAssertEqual(try weights.group("lstm/lstm").path, "/model_weights/lstm/lstm")

        XCTAssertTrue(root.hasChild("model_weights/dense/dense/bias:0"))
        XCTAssertFalse(root.hasChild("model_weights/nope/dense/bias:0"))
        XCTAssertFalse(root.hasChild("model_weights/dense/scalar/below"))
        XCTAssertFalse(root.hasChild("/model_weights"))
        XCTAssertTrue(root.hasAttribute("backend"))
        XCTAssertFalse(root.hasAttribute("keras_version"))
    }

    func testAttributesAreReplaced() throws {
        let file = temporary("replace.h5")
        let root = try HDF5File.create(file).root
        try root.setStringAttribute("name", "first")
        try root.setStringAttribute("name", "second")
        try root.setStringListAttribute("names", ["a"])
        try root.setStringListAttribute("names", ["b", "c"])
        XCTAssertEqual(try root.stringAttribute("name"), "second")
        XCTAssertEqual(try root.stringListAttribute("names"), ["b", "c"])
        XCTAssertEqual(try root.stringListAttribute("name"), ["second"])
    }

    func testCreatingAnExistingGroupFails() throws {
        let file = temporary("twice.h5")
        let root = try HDF5File.create(file).root
        _ = try root.createGroup("a/b")
        XCTAssertThrowsError(try root.createGroup("a/b")) { error in
            XCTAssertEqual((error as? RNNKitError)?.kind, .unreadable)
            XCTAssertEqual((error as? RNNKitError)?.location, "/a/b")
        }
    }

    func testChunkedStringListAttributeIsJoined() throws {
        let file = temporary("chunked.h5")
        do {
            let root = try HDF5File.create(file).root
            try root.setStringListAttribute("layer_names0", ["a", "b"])
            try root.setStringListAttribute("layer_names1", ["c"])
            try root.setStringListAttribute("layer_names3", ["after a gap, so never read"])
        }
        let root = try HDF5File.open(file).root
        XCTAssertFalse(root.hasAttribute("layer_names"))
        XCTAssertEqual(try root.stringListAttribute("layer_names"), ["a", "b", "c"])
    }

    func testEmptyStringListIsAZeroLengthFloat64Array() throws {
        let file = temporary("empty.h5")
        do {
            try HDF5File.create(file).root.setStringListAttribute("weight_names", [])
        }
        let root = try HDF5File.open(file).root
        XCTAssertEqual(try root.stringListAttribute("weight_names"), [])
        XCTAssertThrowsError(try root.stringAttribute("weight_names")) { error in
            XCTAssertEqual(error as? RNNKitError, RNNKitError(
                .invalidModel, "attribute 'weight_names' has type float64; expected a string", file: file,
                location: "/"))
        }
    }

    func testOtherNumberTypesAreReadAsFloat32() throws {
        let file = temporary("types.h5")
        let values: [Double] = [0.1, -2.5, 1e10, 3]
        do {
            let root = try HDF5File.create(file).root
            try root.writeDataset("f64", shape: [2, 2], values: values, storedAs: .float64)
            try root.writeDataset("f16", shape: [4], values: [0.5, -2, 65504, 0.1], storedAs: .float16)
            try root.writeDataset("i32", shape: [], values: [-7], storedAs: .int32)
        }
        let root = try HDF5File.open(file).root
        XCTAssertEqual(try root.readTensor("f64"), Tensor(shape: [2, 2], scalars: values.map { Float($0) }))
        // 0.1 has no exact float16; the nearest one is 0.0999755859375.
        XCTAssertEqual(try root.readTensor("f16"), Tensor(shape: [4], scalars: [0.5, -2, 65504, 0.0999755859375]))
        XCTAssertEqual(try root.readTensor("i32"), Tensor(shape: [], scalars: [-7]))
    }

    func testConcurrentUseIsSerialized() throws {
        let file = temporary("concurrent.h5")
        let tensor = Tensor(shape: [64], scalars: (0..<64).map(Float.init))
        do {
            let root = try HDF5File.create(file).root
            for index in 0..<8 {
                try root.writeTensor("group\(index)/weights", tensor)
            }
        }
        let failures = LockedCounter()
        DispatchQueue.concurrentPerform(iterations: 32) { iteration in
            do {
                let root = try HDF5File.open(file).root
                let read = try root.readTensor("group\(iteration % 8)/weights")
                if read != tensor { failures.increment() }
            } catch {
                failures.increment()
            }
        }
        XCTAssertEqual(failures.value, 0)
    }

    // MARK: - Unreadable files

    func testNonHDF5FileIsRefused() throws {
        let file = temporary("text.h5")
        try Data("just some text, long enough to hold a signature if it were one".utf8).write(to: URL(fileURLWithPath: file))
        XCTAssertThrowsError(try HDF5File.open(file)) { error in
            XCTAssertEqual(error as? RNNKitError, RNNKitError(.unreadable, "not an HDF5 file", file: file))
        }
    }

    func testMissingFileNamesTheFile() {
        let file = temporary("missing.h5")
        XCTAssertThrowsError(try HDF5File.open(file)) { error in
            guard let error = error as? RNNKitError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.kind, .unreadable)
            XCTAssertEqual(error.file, file)
            XCTAssertTrue(error.message.contains("No such file or directory"), error.message)
        }
    }

    func testTruncatedFileIsACleanErrorWithNothingOnStandardError() throws {
        let file = temporary("truncated.h5")
        do {
            let root = try HDF5File.create(file).root
            try root.setStringAttribute("backend", "tensorflow")
            try root.writeTensor("weights/kernel", Tensor(zeros: [64, 64]))
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: file))

        var thrown: Error?
        let standardError = try capturingStandardError {
            do {
                _ = try HDF5File.open(file).root.readTensor("weights/kernel")
            } catch {
                thrown = error
            }
        }
        XCTAssertEqual(standardError, "")
        let error = try XCTUnwrap(thrown as? RNNKitError)
        XCTAssertEqual(error.kind, .unreadable)
        XCTAssertEqual(error.file, file)
        XCTAssertTrue(error.message.hasPrefix("cannot open the file: "), error.message)
        XCTAssertFalse(error.description.contains("\n"))
    }

    // MARK: - Missing and refused objects

    func testMissingObjectsAreNamedByPath() throws {
        let file = temporary("missing-objects.h5")
        do {
            let root = try HDF5File.create(file).root
            try root.writeTensor("model_weights/dense/kernel", Tensor(zeros: [1]))
        }
        let weights = try HDF5File.open(file).root.group("model_weights")
        XCTAssertThrowsError(try weights.readTensor("dense/bias")) { error in
            XCTAssertEqual(error as? RNNKitError, RNNKitError(
                .invalidModel, "missing dataset", file: file, location: "/model_weights/dense/bias"))
        }
        XCTAssertThrowsError(try weights.readTensor("lstm/bias")) { error in
            XCTAssertEqual(error as? RNNKitError, RNNKitError(
                .invalidModel, "missing group", file: file, location: "/model_weights/lstm"))
        }
        XCTAssertThrowsError(try weights.group("dense/kernel")) { error in
            XCTAssertEqual(error as? RNNKitError, RNNKitError(
                .invalidModel, "expected a group, found a dataset", file: file,
                location: "/model_weights/dense/kernel"))
        }
        XCTAssertThrowsError(try weights.readTensor("dense")) { error in
            XCTAssertEqual(error as? RNNKitError, RNNKitError(
                .invalidModel, "expected a dataset, found a group", file: file, location: "/model_weights/dense"))
        }
        XCTAssertThrowsError(try weights.stringListAttribute("layer_names")) { error in
            XCTAssertEqual(error as? RNNKitError, RNNKitError(
                .invalidModel, "missing attribute 'layer_names'", file: file, location: "/model_weights"))
        }
        XCTAssertThrowsError(try weights.stringAttribute("backend")) { error in
            XCTAssertEqual(error as? RNNKitError, RNNKitError(
                .invalidModel, "missing attribute 'backend'", file: file, location: "/model_weights"))
        }
        XCTAssertThrowsError(try weights.readTensor("dense//kernel")) { error in
            XCTAssertEqual(error as? RNNKitError, RNNKitError(
                .badUsage, "invalid relative HDF5 path 'dense//kernel'", file: file, location: "/model_weights"))
        }
    }

    func testLinksAndExternalStorageAreRefused() throws {
        let file = temporary("links.h5")
        try withRawFile(file) { fileID in
            try check(H5Gcreate2(fileID, "real", rnnkit_H5P_DEFAULT(), rnnkit_H5P_DEFAULT(), rnnkit_H5P_DEFAULT()))
            try check(H5Lcreate_soft("/real", fileID, "soft", rnnkit_H5P_DEFAULT(), rnnkit_H5P_DEFAULT()))
            try check(H5Lcreate_external("/etc/passwd", "/", fileID, "external", rnnkit_H5P_DEFAULT(), rnnkit_H5P_DEFAULT()))
            let properties = try check(H5Pcreate(rnnkit_H5P_DATASET_CREATE()))
            defer { H5Pclose(properties) }
            try check(H5Pset_external(properties, "raw.bin", 0, 16))
            try createDataset(fileID, "stored_elsewhere", shape: [4], properties: properties)
        }
        let root = try HDF5File.open(file).root
        XCTAssertTrue(root.hasChild("soft"))
        XCTAssertFalse(root.hasChild("soft/anything"))
        XCTAssertThrowsError(try root.group("soft")) { error in
            XCTAssertEqual(error as? RNNKitError, RNNKitError(
                .invalidModel, "not allowed: soft link", file: file, location: "/soft"))
        }
        XCTAssertThrowsError(try root.readTensor("external/x")) { error in
            XCTAssertEqual(error as? RNNKitError, RNNKitError(
                .invalidModel, "not allowed: external link", file: file, location: "/external"))
        }
        XCTAssertThrowsError(try root.readTensor("stored_elsewhere")) { error in
            XCTAssertEqual(error as? RNNKitError, RNNKitError(
                .invalidModel, "not allowed: dataset stored in external files", file: file,
                location: "/stored_elsewhere"))
        }
    }

    func testShapeBombsAreRefusedBeforeAllocating() throws {
        let file = temporary("bomb.h5")
        try withRawFile(file) { fileID in
            // Declared, never written: nothing is stored and HDF5 would fill 4 GB with zeros.
            try createDataset(fileID, "huge", shape: [1 << 30])
            try createDataset(fileID, "overflowing", shape: [1 << 40, 1 << 40, 1 << 40])
        }
        let root = try HDF5File.open(file).root
        let fileSize = try HDF5File.open(file).fileSize
        XCTAssertThrowsError(try root.readTensor("huge")) { error in
            XCTAssertEqual(error as? RNNKitError, RNNKitError(
                .invalidModel, "dataset declares 4294967296 bytes, more than the whole file (\(fileSize) bytes)",
                file: file, location: "/huge"))
        }
        XCTAssertEqual(try root.datasetShape("huge"), [1 << 30])
        XCTAssertThrowsError(try root.readTensor("overflowing")) { error in
            XCTAssertEqual(error as? RNNKitError, RNNKitError(
                .invalidModel, "shape [1099511627776, 1099511627776, 1099511627776] is too large", file: file,
                location: "/overflowing"))
        }
    }

    func testDatasetStoringFarLessThanItDeclaresIsRefused() throws {
        let file = temporary("sparse.h5")
        do {
            let root = try HDF5File.create(file).root
            try root.writeTensor("padding", Tensor(zeros: [1 << 20]))  // makes the file 4 MiB
        }
        // The whole file could hold 2 MiB, but nothing of it is stored.
        try withRawFile(file, truncating: false) { fileID in
            try createDataset(fileID, "unwritten", shape: [1 << 19])
        }
        XCTAssertThrowsError(try HDF5File.open(file).root.readTensor("unwritten")) { error in
            XCTAssertEqual(error as? RNNKitError, RNNKitError(
                .invalidModel, "dataset declares 2097152 bytes but stores only 0", file: file, location: "/unwritten"))
        }
    }

    func testNonNumericDatasetIsRefusedNamingItsType() throws {
        let file = temporary("strings.h5")
        try withRawFile(file) { fileID in
            let type = try check(H5Tcopy(rnnkit_H5T_C_S1()))
            defer { H5Tclose(type) }
            try check(H5Tset_size(type, 8))
            try createDataset(fileID, "names", shape: [2], type: type)
        }
        XCTAssertThrowsError(try HDF5File.open(file).root.readTensor("names")) { error in
            XCTAssertEqual(error as? RNNKitError, RNNKitError(
                .invalidModel, "dataset has type string; expected floats or integers", file: file, location: "/names"))
        }
    }

    /// h5py 2.x and Keras's chunked attributes store NumPy `S<n>` arrays: fixed-length, NUL-padded.
    func testFixedLengthNullPaddedStringsAreRead() throws {
        let file = temporary("fixed.h5")
        try withRawFile(file) { fileID in
            let type = try check(H5Tcopy(rnnkit_H5T_C_S1()))
            defer { H5Tclose(type) }
            try check(H5Tset_size(type, 5))
            try check(H5Tset_strpad(type, H5T_STR_NULLPAD))
            var dimensions: [hsize_t] = [3]
            let space = try check(H5Screate_simple(1, &dimensions, nil))
            defer { H5Sclose(space) }
            let attribute = try check(
                H5Acreate2(fileID, "layer_names0", type, space, rnnkit_H5P_DEFAULT(), rnnkit_H5P_DEFAULT()))
            defer { H5Aclose(attribute) }
            let bytes = Array("dense".utf8) + Array("gru\0\0".utf8) + Array("lstm\0".utf8)
            try check(H5Awrite(attribute, type, bytes))
        }
        XCTAssertEqual(try HDF5File.open(file).root.stringListAttribute("layer_names"), ["dense", "gru", "lstm"])
    }

    // MARK: - Helpers

    /// Builds (or, unless `truncating`, extends) a file with the C API directly, for the kinds of
    /// file RNNKit's writer never makes.
    private func withRawFile(_ path: String, truncating: Bool = true, _ body: (hid_t) throws -> Void) throws {
        try HDF5Library.locked {
            let fileID = try check(truncating
                ? H5Fcreate(path, rnnkit_H5F_ACC_TRUNC(), rnnkit_H5P_DEFAULT(), rnnkit_H5P_DEFAULT())
                : H5Fopen(path, rnnkit_H5F_ACC_RDWR(), rnnkit_H5P_DEFAULT()))
            defer { H5Fclose(fileID) }
            try body(fileID)
        }
    }

    private func createDataset(
        _ fileID: hid_t, _ name: String, shape: [hsize_t], type: hid_t = rnnkit_H5T_IEEE_F32LE(),
        properties: hid_t = rnnkit_H5P_DEFAULT()
    ) throws {
        let space = try check(H5Screate_simple(Int32(shape.count), shape, nil))
        defer { H5Sclose(space) }
        let dataset = try check(
            H5Dcreate2(fileID, name, type, space, rnnkit_H5P_DEFAULT(), properties, rnnkit_H5P_DEFAULT()))
        H5Dclose(dataset)
    }

    @discardableResult
    private func check<Status: BinaryInteger>(_ status: Status, line: UInt = #line) throws -> Status {
        guard status >= 0 else {
            throw RNNKitError(.unreadable, "HDF5 call on line \(line) failed: \(HDF5ErrorStack.takeDescription())")
        }
        return status
    }

    /// What `body` writes to the standard error stream (file descriptor 2, where HDF5 prints).
    private func capturingStandardError(_ body: () throws -> Void) throws -> String {
        let capture = temporary("stderr.txt")
        _ = FileManager.default.createFile(atPath: capture, contents: nil)
        let captureDescriptor = open(capture, O_WRONLY)
        let savedDescriptor = dup(STDERR_FILENO)
        fflush(stderr)
        dup2(captureDescriptor, STDERR_FILENO)
        do {
            defer {
                fflush(stderr)
                dup2(savedDescriptor, STDERR_FILENO)
                close(savedDescriptor)
                close(captureDescriptor)
            }
            try body()
        }
        return try String(contentsOfFile: capture, encoding: .utf8)
    }
}

/// A counter safe to bump from several threads.
private final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() {
        lock.withLock { count += 1 }
    }

    var value: Int { lock.withLock { count } }
}
