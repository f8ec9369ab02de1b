import Foundation
@testable import RNNKit
import RNNKitTestSupport
import XCTest

/// `ModelDiagram`: the DOT text of known models, plot_model's boxes and arrows for every fixture,
/// hostile names kept inside their labels, and rendering by Graphviz when it is installed.
final class ModelDiagramTests: XCTestCase {
    private func expectedDOT(_ name: String) throws -> String {
        try String(contentsOfFile: FixtureFiles.path("plots/\(name).dot"), encoding: .utf8)
    }

    /// The expected files were made by `rnnkit plot` with the same flags, and checked by eye.
    func testSeq2SeqAndBidirectionalMatchTheirExpectedText() throws {
        let seq2seq = try Model.load(contentsOf: FixtureFiles.path("seq2seq/keras3.keras"))
        XCTAssertEqual(try ModelDiagram(seq2seq, options: .init(showShapes: true)).dot, try expectedDOT("seq2seq"))
        let bidirectional = try Model.load(contentsOf: FixtureFiles.path("bidirectional_concat/keras3.keras"))
        let options = ModelDiagram.Options(showShapes: true, showDType: true, showParams: true, direction: .leftToRight)
        XCTAssertEqual(try ModelDiagram(bidirectional, options: options).dot, try expectedDOT("bidirectional_concat"))
    }

    func testInitialStatesShareOneDashedArrow() throws {
        let dot = try ModelDiagram(Model.load(contentsOf: FixtureFiles.path("seq2seq/tfkeras.h5"))).dot
        let arrows = dot.split(separator: "\n").filter { $0.contains("->") }
        XCTAssertEqual(arrows.count, 4, dot)
        XCTAssertEqual(arrows.filter { $0.contains("style=dashed") }.count, 1, dot)
        XCTAssertTrue(dot.contains("xlabel=\"initial_state[0, 1]\""), dot)
    }

    /// Keras 3 passes Embedding's mask to the LSTM from a NotEqual operation (`mask=`): a dashed
    /// arrow labelled `mask`; tf_keras's implicit mask takes no arrow.
    func testExplicitMasksArriveOnDashedArrows() throws {
        let keras3 = try ModelDiagram(Model.load(contentsOf: FixtureFiles.path("ops_mask_tagger/keras3.keras"))).dot
        let masks = keras3.split(separator: "\n").filter { $0.contains("xlabel=\"mask\"") }
        XCTAssertEqual(masks.count, 1, keras3)
        XCTAssertTrue(masks.allSatisfy { $0.contains("style=dashed") }, keras3)
        let tfKeras = try ModelDiagram(Model.load(contentsOf: FixtureFiles.path("ops_mask_tagger/tfkeras.h5"))).dot
        XCTAssertFalse(tfKeras.contains("mask"), tfKeras)
    }

    /// plot_model's rule, applied to each Keras 3 config: a Sequential model's layers but its
    /// InputLayer, chained in order; a functional model's layers, each joined once to every layer
    /// whose output it is called on (`keras_history`), initial states included.
    private func kerasBoxesAndArrows(_ configPath: String) throws -> (boxes: [String], arrows: Set<[String]>) {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath)))
        let top = try XCTUnwrap(root as? [String: Any])
        let config = try XCTUnwrap(top["config"] as? [String: Any])
        let layers = try XCTUnwrap(config["layers"] as? [[String: Any]])
        func name(_ layer: [String: Any]) -> String {
            (layer["name"] as? String) ?? ((layer["config"] as? [String: Any])?["name"] as? String ?? "")
        }
        if top["class_name"] as? String == "Sequential" {
            let boxes = layers.filter { $0["class_name"] as? String != "InputLayer" }.map(name)
            return (boxes, Set(zip(boxes, boxes.dropFirst()).map { [$0, $1] }))
        }
        func sources(_ value: Any) -> [String] {
            if let object = value as? [String: Any] {
                if let history = object["keras_history"] as? [Any], let layer = history.first as? String {
                    return [layer]
                }
                return object.values.flatMap(sources)
            }
            return (value as? [Any])?.flatMap(sources) ?? []
        }
        var arrows: Set<[String]> = []
        for layer in layers {
            for source in sources(layer["inbound_nodes"] ?? []) { arrows.insert([source, name(layer)]) }
        }
        return (layers.map(name), arrows)
    }

    func testEveryFixtureHasPlotModelsBoxesAndArrows() throws {
        var compared = 0
        for fixture in try FixtureFiles.manifest() where fixture.writers.contains("keras3") {
            let expected = try kerasBoxesAndArrows(FixtureFiles.path("\(fixture.name)/keras3.json"))
            for (modelPath, weightsPath) in FixtureFiles.files(of: fixture.name, writer: "keras3") {
                let model = try Model.load(contentsOf: modelPath, weights: weightsPath)
                let graph = DiagramGraph(try model.checked(), options: .init())
                let names = graph.boxNames
                XCTAssertEqual(graph.shown.map { names[$0] ?? "" }, expected.boxes, modelPath)
                XCTAssertEqual(Set(graph.edges.map { [names[$0.from] ?? "", names[$0.to] ?? ""] }), expected.arrows, modelPath)
                compared += 1
            }
        }
        XCTAssertGreaterThanOrEqual(compared, 45)
    }

    func testEveryFixtureInEveryFormatPlotsToDotAndSVG() throws {
        let directory = try makeTemporaryDirectory()
        let render = (try? Graphviz.dotCommand(for: "x.svg")) != nil
        var plotted = 0
        for fixture in try FixtureFiles.manifest() {
            for writer in fixture.writers {
                for (number, (modelPath, weightsPath)) in FixtureFiles.files(of: fixture.name, writer: writer).enumerated() {
                    let model = try Model.load(contentsOf: modelPath, weights: weightsPath)
                    let options = ModelDiagram.Options(showShapes: true, showDType: true, showParams: true)
                    let diagram = try ModelDiagram(model, options: options)
                    let base = directory.appendingPathComponent("\(fixture.name)-\(writer)-\(number)").path
                    try diagram.write(to: base + ".dot")
                    if render { try diagram.write(to: base + ".svg") }
                    plotted += 1
                }
            }
        }
        XCTAssertGreaterThanOrEqual(plotted, 75)
        if !render { throw XCTSkip("Graphviz's dot is not installed (apt-get install graphviz); SVG not rendered") }
    }

    /// The seq2seq model with every layer renamed to `hostile` plus its index.
    private func renamed(_ hostile: String) throws -> Model {
        var model = try Model.load(contentsOf: FixtureFiles.path("seq2seq/keras3.keras"))
        let names = Dictionary(uniqueKeysWithValues: model.layers.enumerated().map { ($1.name, hostile + "\($0)") })
        func rename(_ ref: TensorRef) -> TensorRef {
            TensorRef(layer: names[ref.layer] ?? ref.layer, node: ref.node, index: ref.index)
        }
        for index in model.layers.indices {
            model.layers[index].name = names[model.layers[index].name]!
            for node in model.layers[index].nodes.indices {
                model.layers[index].nodes[node].inputs = model.layers[index].nodes[node].inputs.map(rename)
            }
        }
        model.inputs = model.inputs.map(rename)
        model.outputs = model.outputs.map(rename)
        return model
    }

    static let hostileNames = [
        "a\"b", "x>]; evil [color=red", "</b></font></td></tr></table>> shape=box label=<",
        "{braces}|<port>", "line\nbreak\r\u{0}", "<b>bold</b> &amp; &#0; &x", "\\N\\G\\L\\\"", "\u{fffe}\u{1b}[31m",
        "]]><!-- --", "'quoted' ; // comment",
    ]

    /// A hostile name changes nothing but the text of its own labels: the diagram is the one
    /// of a plainly named model, with the escaped name in place of the plain one.
    func testHostileNamesStayInsideTheirLabels() throws {
        let plain = try ModelDiagram(renamed("NAME"), options: .init(showShapes: true, showParams: true)).dot
        for hostile in Self.hostileNames {
            let escaped = DiagramGraph.escaped(hostile)
            XCTAssertFalse(escaped.contains { "<>\"'\n\r".contains($0) }, escaped)
            XCTAssertFalse(escaped.unicodeScalars.contains { $0.properties.generalCategory == .control })
            XCTAssertNil(escaped.range(of: #"&(?!(amp|lt|gt|quot|#\d+);)"#, options: .regularExpression), escaped)
            XCTAssertFalse(escaped.replacingOccurrences(of: "\\\\", with: "").contains("\\"), escaped)
            XCTAssertFalse(escaped.contains { "{}|".contains($0) }, escaped)
            let dot = try ModelDiagram(renamed(hostile), options: .init(showShapes: true, showParams: true)).dot
            XCTAssertEqual(dot.replacingOccurrences(of: escaped, with: "NAME"), plain, hostile)
        }
        XCTAssertEqual(DiagramGraph.escaped("a<b>&\"c'\n\u{fffe}|"),
                       "a&lt;b&gt;&amp;&quot;c&#39;\\\\n\\\\u&#123;fffe&#125;&#124;")
    }

    /// Graphviz itself reads each hostile diagram as five boxes and four arrows carrying only
    /// RNNKit's attributes, without a warning, and renders it.
    func testGraphvizReadsHostileNamesAsText() throws {
        guard let dot = try? Graphviz.dotCommand(for: "x.svg") else {
            throw XCTSkip("Graphviz's dot is not installed (apt-get install graphviz); not checked")
        }
        for hostile in Self.hostileNames {
            let text = try ModelDiagram(renamed(hostile), options: .init(showShapes: true)).dot
            let drawn = try graphviz(dot, text)
            XCTAssertEqual(drawn.status, 0, "\(hostile): \(drawn.complaint)")
            XCTAssertEqual(drawn.complaint, "", hostile)
            let graph = try XCTUnwrap(try JSONSerialization.jsonObject(with: drawn.json) as? [String: Any], hostile)
            let boxes = try XCTUnwrap(graph["objects"] as? [[String: Any]])
            XCTAssertEqual(boxes.count, 5, hostile)
            XCTAssertEqual((graph["edges"] as? [Any])?.count, 4, hostile)
            for box in boxes {
                XCTAssertEqual(Set(box.keys).subtracting(["_gvid", "name", "_draw_", "_ldraw_", "height", "pos",
                                                          "width", "fontname", "label", "margin", "shape", "rects"]),
                               [], hostile)
            }
            if hostile.hasPrefix("\\N") {  // shown as written, not expanded to the node's or graph's name
                XCTAssertTrue(drawn.svg.contains(">\\N\\G\\L\\&quot;0<"), drawn.svg)
            }
        }
    }

    func testWritesDotAndRendersSVGAndPNG() throws {
        let directory = try makeTemporaryDirectory()
        let model = try Model.load(contentsOf: FixtureFiles.path("seq2seq/keras3.keras"))
        let diagram = try ModelDiagram(model, options: .init(showShapes: true))
        let dotPath = directory.appendingPathComponent("m.dot").path
        try diagram.write(to: dotPath)
        XCTAssertEqual(try String(contentsOfFile: dotPath, encoding: .utf8), diagram.dot)
        XCTAssertThrowsError(try diagram.write(to: directory.appendingPathComponent("m.txt").path)) { error in
            XCTAssertTrue("\(error)".contains("use one of .dot, .svg, .png"), "\(error)")
        }
        guard (try? Graphviz.dotCommand(for: "x.svg")) != nil else {
            throw XCTSkip("Graphviz's dot is not installed (apt-get install graphviz); SVG and PNG not rendered")
        }
        let svgPath = directory.appendingPathComponent("m.svg").path
        try diagram.write(to: svgPath)
        let svg = try String(contentsOfFile: svgPath, encoding: .utf8)
        XCTAssertTrue(svg.contains("<svg") && svg.contains("lstm_1") && svg.contains("initial_state[0, 1]"))
        let pngPath = directory.appendingPathComponent("m.png").path
        try diagram.write(to: pngPath)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: pngPath)).prefix(4), Data([0x89, 0x50, 0x4E, 0x47]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(),
                       ["m.dot", "m.png", "m.svg"])
    }

    func testModelWithErrorsIsRefused() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("malformed/dangling_ref.h5"))
        XCTAssertThrowsError(try ModelDiagram(model)) { error in
            XCTAssertEqual((error as? RNNKitError)?.kind, .invalidModel)
        }
    }

    /// Graphviz's JSON and SVG for `text`, and its exit status and complaints.
    private func graphviz(_ command: String, _ text: String)
        throws -> (status: Int32, complaint: String, json: Data, svg: String) {
        let directory = try makeTemporaryDirectory()
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        try Data(text.utf8).write(to: URL(fileURLWithPath: path("in.dot")))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = ["-Tjson", "-o", path("out.json"), "-Tsvg", "-o", path("out.svg"), path("in.dot")]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let complaint = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let json = (try? Data(contentsOf: URL(fileURLWithPath: path("out.json")))) ?? Data()
        return (process.terminationStatus, complaint, json, (try? String(contentsOfFile: path("out.svg"), encoding: .utf8)) ?? "")
    }
}
