import Foundation
internal import CHDF5

/// Identifies an object within one file whatever link leads to it.
struct HDF5ObjectIdentity: Hashable {
    var high: UInt64
    var low: UInt64
}

/// A group in an open HDF5 file: its links, its attributes and the datasets below it.
///
/// Paths given to a group are relative ("dense/kernel:0") and made of plain link names. Reading
/// follows hard links only and refuses external and virtual datasets, as keras's
/// `safe_get_h5_dataset` does: a model file has no reason to point at other objects or files.
/// Every size declared by the file is checked against the file's size before memory is allocated.
final class HDF5Group {
    enum ObjectKind: Equatable {
        case group, dataset, other

        fileprivate var phrase: String {
            switch self {
            case .group: "a group"
            case .dataset: "a dataset"
            case .other: "an object that is neither a group nor a dataset"
            }
        }
    }

    /// On-disk number types that other writers use and RNNKit reads (RNNKit writes float32).
    enum StoredNumberType {
        case float16, float64, int32
    }

    /// The file, kept open as long as the group is in use.
    let file: HDF5File
    /// The group's object path: "/" for the root, "/model_weights/dense" below it.
    let path: String
    private let id: hid_t

    /// Below this many declared bytes, a dataset that stores far less than it declares (say, only
    /// a fill value) is harmless to read.
    private static let expansionCheckFloor = 1 << 20
    /// Compression of real data stays far below this ratio of declared to stored bytes; "shape
    /// bombs", which store next to nothing, exceed it by far. Keras uses the same ratio.
    private static let maximumExpansion = 1000

    /// Takes ownership of the open group `id`.
    init(file: HDF5File, id: hid_t, path: String) {
        self.file = file
        self.id = id
        self.path = path
    }

    deinit {
        HDF5Library.locked { _ = H5Gclose(id) }
    }

    // MARK: - Links

    /// The names of the links in this group, ordered by name.
    func childNames() throws -> [String] {
        try HDF5Library.locked {
            let site = file.site(path)
            var info = H5G_info_t()
            try site.check(H5Gget_info(id, &info), "list the group")
            return try (0..<info.nlinks).map { index in
                try readName(site, "read a link name") { buffer, size in
                    H5Lget_name_by_idx(
                        id, ".", H5_INDEX_NAME, H5_ITER_INC, index, buffer, size, rnnkit_H5P_DEFAULT())
                }
            }
        }
    }

    /// Whether a link exists at `relativePath`. False, not an error, when a part of the path is
    /// missing, is not a group or is reached through a soft or external link.
    func hasChild(_ relativePath: String) -> Bool {
        HDF5Library.locked {
            let exists = try? withParent(of: relativePath) { parent, name, objectPath in
                try file.site(objectPath).check(
                    H5Lexists(parent, name, rnnkit_H5P_DEFAULT()), "look up the link") > 0
            }
            return exists ?? false
        }
    }

    func kind(of relativePath: String) throws -> ObjectKind {
        try HDF5Library.locked {
            try withParent(of: relativePath) { parent, name, objectPath in
                try requireHardLink(parent, name, objectPath, missing: "object")
                return try objectKind(parent, name, file.site(objectPath))
            }
        }
    }

    func group(_ relativePath: String) throws -> HDF5Group {
        try HDF5Library.locked {
            try withParent(of: relativePath) { parent, name, objectPath in
                try requireGroup(parent, name, objectPath)
                let child = try file.site(objectPath).check(
                    H5Gopen2(parent, name, rnnkit_H5P_DEFAULT()), "open the group")
                return HDF5Group(file: file, id: child, path: objectPath)
            }
        }
    }

    /// The group's identity in its file, equal for every hard link that leads to it.
    func identity() throws -> HDF5ObjectIdentity {
        try HDF5Library.locked {
            var identity = rnnkit_object_identity()
            try file.site(path).check(rnnkit_object_identity_of(id, &identity), "identify the group")
            return HDF5ObjectIdentity(high: identity.words.0, low: identity.words.1)
        }
    }

    // MARK: - Attributes

    /// The names of this group's attributes, ordered by name.
    func attributeNames() throws -> [String] {
        try HDF5Library.locked {
            let site = file.site(path)
            var info = H5O_info_t()
            try site.check(H5Oget_info2(id, &info, UInt32(H5O_INFO_NUM_ATTRS)), "read the group's header")
            return try (0..<info.num_attrs).map { index in
                try readName(site, "read an attribute name") { buffer, size in
                    H5Aget_name_by_idx(
                        id, ".", H5_INDEX_NAME, H5_ITER_INC, index, buffer, size, rnnkit_H5P_DEFAULT())
                }
            }
        }
    }

    func hasAttribute(_ name: String) -> Bool {
        HDF5Library.locked { H5Aexists(id, name) > 0 }
    }

    /// A string attribute: variable- or fixed-length, ASCII or UTF-8, scalar or a one-element
    /// array. Trailing NULs (padding) are removed.
    func stringAttribute(_ name: String) throws -> String {
        try HDF5Library.locked {
            let site = file.site(path)
            switch try readAttribute(name) {
            case .strings(let strings) where strings.count == 1:
                return strings[0]
            case .strings(let strings):
                throw site.error(.invalidModel, "attribute '\(name)' holds \(strings.count) strings; expected one")
            case .other(let type, _):
                throw site.error(.invalidModel, "attribute '\(name)' has type \(type); expected a string")
            }
        }
    }

    /// A list of strings, as Keras stores `layer_names` and `weight_names`.
    ///
    /// Keras writes an empty list as a zero-length float64 array, and splits a list too big for an
    /// object header into `name0`, `name1`, …; when `name` itself is absent, those chunks are read
    /// in order and joined.
    func stringListAttribute(_ name: String) throws -> [String] {
        try HDF5Library.locked {
            if hasAttribute(name) {
                return try stringList(name)
            }
            guard hasAttribute("\(name)0") else {
                throw file.site(path).error(.invalidModel, "missing attribute '\(name)'")
            }
            var strings: [String] = []
            var chunk = 0
            while hasAttribute("\(name)\(chunk)") {
                strings += try stringList("\(name)\(chunk)")
                chunk += 1
            }
            return strings
        }
    }

    // MARK: - Datasets

    /// Reads a numeric dataset as float32; HDF5 converts float16, float64 and integers. A scalar
    /// dataset has shape [].
    func readTensor(_ relativePath: String) throws -> Tensor {
        try HDF5Library.locked {
            try withDataset(relativePath) { dataset, site in
                let (shape, elementSize) = try numericLayout(of: dataset, site)
                let count = Tensor.elementCount(shape)  // `shape(of:)` checked it fits.
                try checkDeclaredSize(of: dataset, count: count, elementSize: elementSize, site)
                // Not zero-filled first: H5Dread writes every element or fails.
                let scalars = try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    if count > 0 {
                        _ = try site.check(
                            H5Dread(dataset, rnnkit_H5T_NATIVE_FLOAT(), rnnkit_H5S_ALL(), rnnkit_H5S_ALL(),
                                    rnnkit_H5P_DEFAULT(), buffer.baseAddress),
                            "read the dataset")
                    }
                    initialized = count
                }
                file.releaseImagePages(after: count * MemoryLayout<Float>.size)
                return Tensor(shape: shape, scalars: scalars)
            }
        }
    }

    /// The shape of a numeric dataset, without reading its data.
    func datasetShape(_ relativePath: String) throws -> [Int] {
        try HDF5Library.locked {
            try withDataset(relativePath) { dataset, site in try numericLayout(of: dataset, site).shape }
        }
    }

    // MARK: - Writing

    /// Creates a group; missing intermediate groups are created too. Fails if it already exists.
    func createGroup(_ relativePath: String) throws -> HDF5Group {
        try HDF5Library.locked {
            let objectPath = try pathForWriting(relativePath)
            let site = file.site(objectPath)
            let child = try withIntermediateGroupCreation(site) { linkProperties in
                try site.check(
                    H5Gcreate2(id, relativePath, linkProperties, rnnkit_H5P_DEFAULT(), rnnkit_H5P_DEFAULT()),
                    "create the group")
            }
            return HDF5Group(file: file, id: child, path: objectPath)
        }
    }

    /// Writes a scalar variable-length UTF-8 string, as h5py writes a Python `str`, replacing any
    /// attribute of that name. Like every C string, it ends at its first NUL character.
    func setStringAttribute(_ name: String, _ value: String) throws {
        try HDF5Library.locked {
            try writeStrings(name, [value], dimensions: nil)
        }
    }

    /// Writes a one-dimensional array of variable-length UTF-8 strings, replacing any attribute of
    /// that name; an empty list becomes a zero-length float64 array, as Keras writes it.
    ///
    /// An object header holds at most 64 KiB of attributes (16 bytes per string here); callers
    /// with longer lists split them into `name0`, `name1`, … as Keras does.
    func setStringListAttribute(_ name: String, _ values: [String]) throws {
        try HDF5Library.locked {
            if values.isEmpty {
                try createAttribute(name, type: rnnkit_H5T_IEEE_F64LE(), dimensions: [0]) { _ in }
            } else {
                try writeStrings(name, values, dimensions: [hsize_t(values.count)])
            }
        }
    }

    /// Writes a float32 dataset; missing intermediate groups are created.
    func writeTensor(_ relativePath: String, _ tensor: Tensor) throws {
        try HDF5Library.locked {
            try tensor.scalars.withUnsafeBytes { values in
                try createDataset(
                    relativePath, shape: tensor.shape, fileType: rnnkit_H5T_IEEE_F32LE(),
                    memoryType: rnnkit_H5T_NATIVE_FLOAT(), values: values)
            }
        }
    }

    /// Writes `values` stored as `type`: the files other writers produce (float16, float64 or
    /// integer weights), which tests need to build.
    func writeDataset(
        _ relativePath: String, shape: [Int], values: [Double], storedAs type: StoredNumberType
    ) throws {
        try HDF5Library.locked {
            let site = file.site(try pathForWriting(relativePath))
            guard Tensor.checkedElementCount(shape) == values.count else {
                throw site.error(.badUsage, "shape \(shape) does not hold \(values.count) values")
            }
            try withFileType(type, site) { fileType in
                try values.withUnsafeBytes { buffer in
                    try createDataset(
                        relativePath, shape: shape, fileType: fileType,
                        memoryType: rnnkit_H5T_NATIVE_DOUBLE(), values: buffer)
                }
            }
        }
    }

    // MARK: - Walking paths

    /// Runs `body` with the group holding the last link of `relativePath` (open, or this group),
    /// that link's name and its object path. Each intermediate part must be a hard link to a group.
    private func withParent<Result>(
        of relativePath: String, _ body: (hid_t, String, String) throws -> Result
    ) throws -> Result {
        guard let names = HDF5Path.components(relativePath) else {
            throw file.site(path).error(.badUsage, "invalid relative HDF5 path '\(relativePath)'")
        }
        var opened: [hid_t] = []
        defer {
            for group in opened.reversed() { H5Gclose(group) }
        }
        var parent = id
        var parentPath = path
        for name in names.dropLast() {
            let groupPath = HDF5Path.join(parentPath, name)
            try requireGroup(parent, name, groupPath)
            parent = try file.site(groupPath).check(
                H5Gopen2(parent, name, rnnkit_H5P_DEFAULT()), "open the group")
            opened.append(parent)
            parentPath = groupPath
        }
        let name = names[names.count - 1]
        return try body(parent, name, HDF5Path.join(parentPath, name))
    }

    /// Throws unless `name` in `parent` exists and is a hard link. Soft and external links are
    /// refused before anything follows them: they let a file send a reader to other objects or
    /// to other files on the reader's machine.
    private func requireHardLink(_ parent: hid_t, _ name: String, _ objectPath: String, missing what: String) throws {
        let site = file.site(objectPath)
        guard try site.check(H5Lexists(parent, name, rnnkit_H5P_DEFAULT()), "look up the link") > 0 else {
            throw site.error(.invalidModel, "missing \(what)")
        }
        var info = H5L_info_t()
        try site.check(H5Lget_info(parent, name, &info, rnnkit_H5P_DEFAULT()), "read the link")
        switch info.type {
        case H5L_TYPE_HARD: return
        case H5L_TYPE_SOFT: throw site.error(.invalidModel, "not allowed: soft link")
        case H5L_TYPE_EXTERNAL: throw site.error(.invalidModel, "not allowed: external link")
        default: throw site.error(.invalidModel, "not allowed: user-defined link")
        }
    }

    private func requireGroup(_ parent: hid_t, _ name: String, _ objectPath: String) throws {
        try requireHardLink(parent, name, objectPath, missing: "group")
        let site = file.site(objectPath)
        let kind = try objectKind(parent, name, site)
        guard kind == .group else {
            throw site.error(.invalidModel, "expected a group, found \(kind.phrase)")
        }
    }

    /// The kind of object the hard link `name` in `parent` points to.
    private func objectKind(_ parent: hid_t, _ name: String, _ site: HDF5Site) throws -> ObjectKind {
        var info = H5O_info_t()
        try site.check(
            H5Oget_info_by_name2(parent, name, &info, UInt32(H5O_INFO_BASIC), rnnkit_H5P_DEFAULT()),
            "read the object's header")
        switch info.type {
        case H5O_TYPE_GROUP: return .group
        case H5O_TYPE_DATASET: return .dataset
        default: return .other
        }
    }

    /// Reads a name through an HDF5 "get name" function, called once for the length and once
    /// for the text.
    private func readName(
        _ site: HDF5Site, _ action: String, _ get: (UnsafeMutablePointer<CChar>?, Int) -> Int
    ) throws -> String {
        let length = try site.check(get(nil, 0), action)
        var buffer = [CChar](repeating: 0, count: length + 1)
        try site.check(get(&buffer, buffer.count), action)
        return try decodeUTF8(buffer.prefix(length).map { UInt8(bitPattern: $0) }, site, "a name")
    }

    // MARK: - Reading datasets

    /// Opens the dataset at `relativePath` for `body`, refusing links, external storage (raw data
    /// in other files) and virtual datasets (data mapped from other datasets or files).
    private func withDataset<Result>(
        _ relativePath: String, _ body: (hid_t, HDF5Site) throws -> Result
    ) throws -> Result {
        try withParent(of: relativePath) { parent, name, objectPath in
            let site = file.site(objectPath)
            try requireHardLink(parent, name, objectPath, missing: "dataset")
            let kind = try objectKind(parent, name, site)
            guard kind == .dataset else {
                throw site.error(.invalidModel, "expected a dataset, found \(kind.phrase)")
            }
            return try site.withID(H5Dopen2(parent, name, rnnkit_H5P_DEFAULT()), "open the dataset", closedBy: H5Dclose) {
                dataset in
                try site.withID(H5Dget_create_plist(dataset), "read the dataset's properties", closedBy: H5Pclose) {
                    properties in
                    let layout = H5Pget_layout(properties)
                    try site.check(layout.rawValue, "read the dataset's layout")
                    if layout == H5D_VIRTUAL {
                        throw site.error(.invalidModel, "not allowed: virtual dataset")
                    }
                    if try site.check(H5Pget_external_count(properties), "read the dataset's storage") > 0 {
                        throw site.error(.invalidModel, "not allowed: dataset stored in external files")
                    }
                }
                return try body(dataset, site)
            }
        }
    }

    /// The dataset's shape and the size of one stored element; throws unless it holds floats or
    /// integers.
    private func numericLayout(of dataset: hid_t, _ site: HDF5Site) throws -> (shape: [Int], elementSize: Int) {
        let elementSize = try site.withID(H5Dget_type(dataset), "read the dataset's type", closedBy: H5Tclose) { type in
            let typeClass = H5Tget_class(type)
            guard typeClass == H5T_FLOAT || typeClass == H5T_INTEGER else {
                throw site.error(
                    .invalidModel, "dataset has type \(try typeName(type, site)); expected floats or integers")
            }
            return try storedSize(of: type, site)
        }
        let dimensions = try site.withID(H5Dget_space(dataset), "read the dataset's shape", closedBy: H5Sclose) { space in
            guard let dimensions = try shape(of: space, site) else {
                throw site.error(.invalidModel, "dataset holds no data (null dataspace)")
            }
            return dimensions
        }
        return (dimensions, elementSize)
    }

    /// Refuses a dataset that declares more bytes than the whole file, or far more than it stores
    /// (keras's "shape bomb" guard), before anything is allocated for it.
    private func checkDeclaredSize(of dataset: hid_t, count: Int, elementSize: Int, _ site: HDF5Site) throws {
        let fileSize = try file.fileSize
        let (declared, overflow) = count.multipliedReportingOverflow(by: elementSize)
        guard !overflow, declared <= fileSize else {
            let size = overflow ? "more bytes than memory can address" : "\(declared) bytes"
            throw site.error(.invalidModel, "dataset declares \(size), more than the whole file (\(fileSize) bytes)")
        }
        // 0 means nothing stored, or an error; both are suspicious for a large dataset.
        let stored = Int(clamping: H5Dget_storage_size(dataset))
        if declared > Self.expansionCheckFloor, declared / Self.maximumExpansion > stored {
            throw site.error(.invalidModel, "dataset declares \(declared) bytes but stores only \(stored)")
        }
    }

    /// The dimensions of a dataspace ([] for a scalar), or nil for a null dataspace, which holds no
    /// elements. Throws when a dimension or the element count does not fit `Int`.
    private func shape(of space: hid_t, _ site: HDF5Site) throws -> [Int]? {
        let spaceClass = H5Sget_simple_extent_type(space)
        try site.check(spaceClass.rawValue, "read the dataspace")
        switch spaceClass {
        case H5S_NULL:
            return nil
        case H5S_SCALAR:
            return []
        default:
            let rank = Int(try site.check(H5Sget_simple_extent_ndims(space), "read the rank"))
            var dimensions = [hsize_t](repeating: 0, count: rank)
            try site.check(H5Sget_simple_extent_dims(space, &dimensions, nil), "read the dimensions")
            let shape = dimensions.compactMap { Int(exactly: $0) }
            guard shape.count == rank, Tensor.checkedElementCount(shape) != nil else {
                throw site.error(.invalidModel, "shape \(dimensions) is too large")
            }
            return shape
        }
    }

    // MARK: - Reading attributes

    private enum AttributeContents {
        case strings([String])
        /// Anything but strings: its type name and element count.
        case other(type: String, count: Int)
    }

    /// The strings of a list attribute; a zero-length array of another type is an empty list.
    private func stringList(_ name: String) throws -> [String] {
        switch try readAttribute(name) {
        case .strings(let strings):
            return strings
        case .other(_, 0):
            return []
        case .other(let type, _):
            throw file.site(path).error(.invalidModel, "attribute '\(name)' has type \(type); expected strings")
        }
    }

    /// Reads attribute `name` when it holds strings, after checking its declared size.
    private func readAttribute(_ name: String) throws -> AttributeContents {
        let site = file.site(path)
        guard hasAttribute(name) else {
            throw site.error(.invalidModel, "missing attribute '\(name)'")
        }
        let what = "attribute '\(name)'"
        return try site.withID(H5Aopen(id, name, rnnkit_H5P_DEFAULT()), "open \(what)", closedBy: H5Aclose) { attribute in
            try site.withID(H5Aget_space(attribute), "read the shape of \(what)", closedBy: H5Sclose) { space in
                try site.withID(H5Aget_type(attribute), "read the type of \(what)", closedBy: H5Tclose) { type in
                    let count = try shape(of: space, site).map(Tensor.elementCount) ?? 0
                    guard H5Tget_class(type) == H5T_STRING else {
                        return .other(type: try typeName(type, site), count: count)
                    }
                    let elementSize = try storedSize(of: type, site)
                    let (declared, overflow) = count.multipliedReportingOverflow(by: elementSize)
                    guard !overflow, declared < (try file.fileSize) else {
                        throw site.error(.invalidModel, "\(what) declares more bytes than the whole file")
                    }
                    let strings: [[UInt8]]
                    if try site.check(H5Tis_variable_str(type), "read the type of \(what)") > 0 {
                        strings = try readVariableLengthStrings(attribute, type: type, space: space, count: count, site)
                    } else {
                        strings = try readFixedLengthStrings(attribute, type: type, count: count, size: elementSize, site)
                    }
                    return .strings(try strings.map { try decodeUTF8($0, site, what) })
                }
            }
        }
    }

    /// Reads variable-length strings, which HDF5 allocates and `H5Dvlen_reclaim` frees.
    private func readVariableLengthStrings(
        _ attribute: hid_t, type: hid_t, space: hid_t, count: Int, _ site: HDF5Site
    ) throws -> [[UInt8]] {
        try site.withID(H5Tcopy(rnnkit_H5T_C_S1()), "make a string type", closedBy: H5Tclose) { memoryType in
            try site.check(H5Tset_size(memoryType, rnnkit_H5T_VARIABLE()), "make a string type")
            // HDF5 does not convert between character sets, so read in the file's one.
            try site.check(H5Tset_cset(memoryType, H5Tget_cset(type)), "make a string type")
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            // Also after a failed read, which may have allocated some strings; nil ones are skipped.
            defer {
                pointers.withUnsafeMutableBytes { buffer in
                    _ = H5Dvlen_reclaim(memoryType, space, rnnkit_H5P_DEFAULT(), buffer.baseAddress)
                }
            }
            try pointers.withUnsafeMutableBytes { buffer in
                _ = try site.check(H5Aread(attribute, memoryType, buffer.baseAddress), "read the attribute")
            }
            return pointers.map { pointer in
                pointer.map { Array(UnsafeRawBufferPointer(start: $0, count: strlen($0))) } ?? []
            }
        }
    }

    /// Reads fixed-length strings and removes their padding: everything from the first NUL for
    /// NUL-terminated strings, trailing NULs (and spaces, for space padding) otherwise.
    private func readFixedLengthStrings(
        _ attribute: hid_t, type: hid_t, count: Int, size: Int, _ site: HDF5Site
    ) throws -> [[UInt8]] {
        var bytes = [UInt8](repeating: 0, count: count * size)
        if count > 0 {
            try bytes.withUnsafeMutableBytes { buffer in
                _ = try site.check(H5Aread(attribute, type, buffer.baseAddress), "read the attribute")
            }
        }
        let padding = H5Tget_strpad(type)
        return (0..<count).map { index in
            var string = bytes[(index * size)..<((index + 1) * size)]
            if padding == H5T_STR_NULLTERM, let end = string.firstIndex(of: 0) {
                string = string[..<end]
            }
            let pad: UInt8 = padding == H5T_STR_SPACEPAD ? 0x20 : 0
            while let last = string.last, last == pad || last == 0 {
                string = string.dropLast()
            }
            return Array(string)
        }
    }

    private func decodeUTF8(_ bytes: [UInt8], _ site: HDF5Site, _ what: String) throws -> String {
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw site.error(.invalidModel, "\(what) is not valid UTF-8")
        }
        return string
    }

    /// The size of one element of `type` as stored.
    private func storedSize(of type: hid_t, _ site: HDF5Site) throws -> Int {
        let size = H5Tget_size(type)
        guard size > 0 else {
            throw site.error(.unreadable, "cannot read a type's size: \(HDF5ErrorStack.takeDescription())")
        }
        return size
    }

    /// A name for `type` in messages: float32, int64, uint8, string, compound, ….
    private func typeName(_ type: hid_t, _ site: HDF5Site) throws -> String {
        let typeClass = H5Tget_class(type)
        switch typeClass {
        case H5T_FLOAT:
            return "float\(try storedSize(of: type, site) * 8)"
        case H5T_INTEGER:
            let signed = H5Tget_sign(type) == H5T_SGN_2
            return (signed ? "int" : "uint") + "\(try storedSize(of: type, site) * 8)"
        case H5T_STRING: return "string"
        case H5T_COMPOUND: return "compound"
        case H5T_ENUM: return "enum"
        case H5T_ARRAY: return "array"
        case H5T_VLEN: return "variable-length sequence"
        case H5T_OPAQUE: return "opaque"
        case H5T_BITFIELD: return "bitfield"
        case H5T_REFERENCE: return "reference"
        case H5T_TIME: return "time"
        default:
            try site.check(typeClass.rawValue, "read a type")
            return "unknown type"
        }
    }

    // MARK: - Writing helpers

    /// The object path of `relativePath`, which must be a plain relative path.
    private func pathForWriting(_ relativePath: String) throws -> String {
        guard HDF5Path.components(relativePath) != nil else {
            throw file.site(path).error(.badUsage, "invalid relative HDF5 path '\(relativePath)'")
        }
        return HDF5Path.join(path, relativePath)
    }

    /// Runs `body` with link-creation properties that make HDF5 create missing intermediate groups.
    private func withIntermediateGroupCreation<Result>(
        _ site: HDF5Site, _ body: (hid_t) throws -> Result
    ) throws -> Result {
        try site.withID(H5Pcreate(rnnkit_H5P_LINK_CREATE()), "make link properties", closedBy: H5Pclose) { properties in
            try site.check(H5Pset_create_intermediate_group(properties, 1), "make link properties")
            return try body(properties)
        }
    }

    private func createDataset(
        _ relativePath: String, shape: [Int], fileType: hid_t, memoryType: hid_t, values: UnsafeRawBufferPointer
    ) throws {
        let site = file.site(try pathForWriting(relativePath))
        let space = shape.isEmpty
            ? H5Screate(H5S_SCALAR)
            : H5Screate_simple(Int32(shape.count), shape.map { hsize_t($0) }, nil)
        try site.withID(space, "make the dataset's shape", closedBy: H5Sclose) { space in
            try withIntermediateGroupCreation(site) { linkProperties in
                try site.withID(
                    H5Dcreate2(id, relativePath, fileType, space, linkProperties, rnnkit_H5P_DEFAULT(), rnnkit_H5P_DEFAULT()),
                    "create the dataset", closedBy: H5Dclose
                ) { dataset in
                    if !values.isEmpty {
                        try site.check(
                            H5Dwrite(dataset, memoryType, rnnkit_H5S_ALL(), rnnkit_H5S_ALL(), rnnkit_H5P_DEFAULT(),
                                     values.baseAddress),
                            "write the dataset")
                    }
                }
            }
        }
    }

    /// Runs `body` with the HDF5 file type for `type`; float16 is built as h5py builds it.
    private func withFileType(_ type: StoredNumberType, _ site: HDF5Site, _ body: (hid_t) throws -> Void) throws {
        let base = switch type {
        case .float16: rnnkit_H5T_IEEE_F32LE()
        case .float64: rnnkit_H5T_IEEE_F64LE()
        case .int32: rnnkit_H5T_STD_I32LE()
        }
        try site.withID(H5Tcopy(base), "make a number type", closedBy: H5Tclose) { fileType in
            if type == .float16 {
                // IEEE half precision: sign bit 15, 5 exponent bits at 10, 10 mantissa bits at 0.
                try site.check(H5Tset_fields(fileType, 15, 10, 5, 0, 10), "make the float16 type")
                try site.check(H5Tset_size(fileType, 2), "make the float16 type")
                try site.check(H5Tset_ebias(fileType, 15), "make the float16 type")
            }
            try body(fileType)
        }
    }

    /// Replaces attribute `name` with one of `type`, scalar when `dimensions` is nil, and lets
    /// `write` fill it.
    private func createAttribute(
        _ name: String, type: hid_t, dimensions: [hsize_t]?, write: (hid_t) throws -> Void
    ) throws {
        let site = file.site(path)
        let what = "attribute '\(name)'"
        if hasAttribute(name) {
            try site.check(H5Adelete(id, name), "replace \(what)")
        }
        let space = dimensions.map { H5Screate_simple(Int32($0.count), $0, nil) } ?? H5Screate(H5S_SCALAR)
        try site.withID(space, "make the shape of \(what)", closedBy: H5Sclose) { space in
            try site.withID(
                H5Acreate2(id, name, type, space, rnnkit_H5P_DEFAULT(), rnnkit_H5P_DEFAULT()),
                "create \(what)", closedBy: H5Aclose, write)
        }
    }

    /// Writes variable-length UTF-8 strings, the type h5py uses for Python `str`.
    private func writeStrings(_ name: String, _ values: [String], dimensions: [hsize_t]?) throws {
        let site = file.site(path)
        try site.withID(H5Tcopy(rnnkit_H5T_C_S1()), "make a string type", closedBy: H5Tclose) { type in
            try site.check(H5Tset_size(type, rnnkit_H5T_VARIABLE()), "make a string type")
            try site.check(H5Tset_cset(type, H5T_CSET_UTF8), "make a string type")
            try createAttribute(name, type: type, dimensions: dimensions) { attribute in
                let copies = values.map { strdup($0) }
                defer { copies.forEach { free($0) } }
                try copies.withUnsafeBytes { buffer in
                    _ = try site.check(H5Awrite(attribute, type, buffer.baseAddress), "write attribute '\(name)'")
                }
            }
        }
    }
}
