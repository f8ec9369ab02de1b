import Foundation
import RNNKit
import RNNKitServer
import XCTest

/// The request parser and the TF Serving JSON codecs, without a server.
final class CodecTests: XCTestCase {
    func parse(_ text: String) throws -> RequestJSON { try RequestJSON.parse(Array(text.utf8)) }

    func testParserReadsJSONAndTFServingsNonFiniteNumbers() throws {
        XCTAssertEqual(try parse(" {\"a\": [1, -2.5e1, true, null, \"x\\u00e9\\n\"]} "),
                       .object([("a", .array([.number(1, isInteger: true), .number(-25, isInteger: false),
                                              .bool(true), .null, .string("xé\n")]))]))
        XCTAssertEqual(try parse("[NaN, Infinity, -Infinity]"),
                       .array([.number(.nan, isInteger: false), .number(.infinity, isInteger: false),
                               .number(-.infinity, isInteger: false)]))
        XCTAssertEqual(try parse("\"\\ud83d\\ude00\""), .string("😀"))
        XCTAssertEqual(try parse("12345678901234567890"), .number(1.2345678901234567e19, isInteger: false))
        XCTAssertEqual(try parse("0.1"), .number(0.1, isInteger: false))
    }

    func testParserRefusesWhatIsNotJSONWithTheOffset() {
        let bad: [(String, Int)] = [("", 0), ("[1,]", 3), ("01", 1), ("[1 2]", 3), ("{\"a\" 1}", 5), ("0x10", 1),
                                    ("+1", 0), ("1.", 2), ("1e", 2), ("\"\\ud800\"", 7), ("[\"a\u{01}\"]", 3),
                                    ("nul", 0), ("{\"a\":1}}", 7), ("\"abc", 0), (".5", 0)]
        for (text, offset) in bad {
            XCTAssertThrowsError(try parse(text), text) { error in
                XCTAssertEqual((error as? RequestJSONError)?.offset, offset, "\(text): \(error)")
                XCTAssertTrue("\(error)".hasPrefix("JSON Parse error: "))
            }
        }
    }

    func testNestingIsBounded() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertThrowsError(try parse(deep)) { error in
            XCTAssertTrue("\(error)".contains("Nesting deeper than 64"), "\(error)")
        }
        XCTAssertNoThrow(try parse(String(repeating: "[", count: 63) + String(repeating: "]", count: 63)))
    }

    let twoInputs = [TensorSignature(name: "a", dataType: .float, shape: [nil, 2]),
                     TensorSignature(name: "b", dataType: .int32, shape: [nil, 3])]

    func decode(_ text: String, _ inputs: [TensorSignature], anyLength: Bool = false) throws -> PredictRequest {
        try PredictRequest.decode(Array(text.utf8), inputs: inputs, anyLength: anyLength)
    }

    func testRowAndColumnarFormatsGiveTheSameTensors() throws {
        let rows = try decode("{\"instances\":[{\"a\":[1,2],\"b\":[1,2,3]},{\"b\":[4,5,6],\"a\":[3,4.5]}]}", twoInputs)
        let columns = try decode("{\"inputs\":{\"a\":[[1,2],[3,4.5]],\"b\":[[1,2,3],[4,5,6]]}}", twoInputs)
        XCTAssertEqual(rows.format, .row)
        XCTAssertEqual(columns.format, .columnar)
        XCTAssertEqual(rows.inputs, columns.inputs)
        XCTAssertEqual(rows.inputs[0], Tensor(shape: [2, 2], scalars: [1, 2, 3, 4.5]))
        XCTAssertEqual(rows.batchSize, 2)
        // Time steps of any number, for sessions.
        let sequence = [TensorSignature(name: "x", dataType: .float, shape: [nil, 5, 1])]
        XCTAssertThrowsError(try decode("{\"inputs\":[[[1],[2]]]}", sequence))
        XCTAssertEqual(try decode("{\"inputs\":[[[1],[2]]]}", sequence, anyLength: true).inputs[0].shape, [1, 2, 1])
    }

    func testDecodingErrorsSayWhichInputWhatWasExpectedAndWhatCame() {
        let cases: [(String, [String])] = [
            ("{\"instances\":[{\"a\":[1,2]}]}", ["must only have keys: a,b"]),
            ("{\"instances\":[{\"a\":[1,2],\"b\":[1,2.5,3]}]}", ["input 'b'", "DT_INT32", "2.5"]),
            ("{\"instances\":[{\"a\":[1,2],\"b\":[1,2]}]}", ["input 'b'", "(None, 3)", "(1, 2)"]),
            ("{\"instances\":[{\"a\":[1,2],\"b\":[1,2,3]},{\"a\":[1,2],\"b\":[1,2,3,4]}]}", ["element 1", "[4]", "[3]"]),
            ("{\"inputs\":{\"a\":[[1,2]],\"b\":[[1,2,3],[1,2,3]]}}", ["batch size", "'a' has 1", "'b' has 2"]),
            ("{\"inputs\":{\"a\":[[1,\"2\"]],\"b\":[[1,2,3]]}}", ["input 'a'", "DT_FLOAT", "String \"2\""]),
            ("{\"inputs\":{\"a\":[[1,16777217]],\"b\":[[1,2,3]]}}", ["loss of precision"]),
            ("{\"inputs\":{\"a\":[[1,[2]]],\"b\":[[1,2,3]]}}", ["input 'a'", "a list at nesting level 3"]),
            ("{\"inputs\":[[1,2]]}", ["plain value/list", "a, b"]),
            ("{\"instances\":[[1,2]]}", ["plain list", "list of objects"]),
            ("{\"inputs\":{\"a\":[], \"b\":[]}}", ["input 'a' expects shape (None, 2), got (0,)"]),
            ("{\"signature_name\":3,\"inputs\":{}}", ["signature_name", "string"]),
        ]
        for (body, fragments) in cases {
            XCTAssertThrowsError(try decode(body, twoInputs), body) { error in
                let serveError = error as? ServeError
                XCTAssertEqual(serveError?.status, 400, body)
                for fragment in fragments {
                    XCTAssertTrue(serveError?.message.contains(fragment) ?? false,
                                  "\(body): '\(serveError?.message ?? "\(error)")' lacks '\(fragment)'")
                }
            }
        }
    }

    /// Hostile and odd bodies (the fuzz target's seeds and what it taught): each is refused with
    /// 400 or decoded, never a crash.
    func testRegressionBodiesAreRefusedOrDecoded() throws {
        let third = String(repeating: "0,", count: 999) + "0"
        // A first row that promises a 1000 × 1000 × 1000 tensor in 6 KB: the reservation stays
        // within what the body can hold, and the ragged rest is refused.
        let promise = "{\"inputs\":{\"a\":[[[" + third + "]" + String(repeating: ",[0]", count: 999) + "]"
            + String(repeating: ",[[0]]", count: 999) + "],\"b\":[[1,2,3]]}}"
        let refused: [String] = [
            promise,
            "{\"inputs\":{\"a\":[[1,2]],\"b\":[[1,2,2147483648]]}}",
            "{\"inputs\":{\"a\":[[1,2]],\"b\":[[1,2,-1e3]]}}",
            "{\"instances\":[{\"a\":[1,2],\"a\":[1,2]}]}",
            "{\"instances\":[{\"a\":[1,2],\"b\":[1,2,3]},[1,2]]}",
            "{\"instances\":[{\"b64\":\"AAAA\"}]}",
            "{\"inputs\":{\"a\":[[true,null]],\"b\":[[1,2,3]]}}",
            "{\"inputs\":{\"a\":[[1,2]],\"b\":[[1,2,3]]}",
            "{\"inputs\":{\"a\":[[\"\\ud800\\u0041\",2]],\"b\":[[1,2,3]]}}",
            "{\"inputs\":{\"a\":[[-,2]],\"b\":[[1,2,3]]}}",
            "\u{FEFF}{\"inputs\":{}}",
            // Found by the fuzz target: escapes in an echoed value must not break the message's line.
            "\"o\\r(S\\r\"",
            "{\"signature_name\":\"a\\nb\",\"inputs\":{}}",
            "{\"instances\":[{\"a\\n\":[1,2],\"b\":[1,2,3]}]}",
            // An integer literal that rounds to 2^63 as a Double, echoed in the message.
            "{\"inputs\":{\"a\":[[1,9223372036854775807]],\"b\":[[1,2,3]]}}",
            "{\"inputs\":{\"a\":[[1,2]],\"b\":[[1,2,-9223372036854775808]]}}",
            // Lists of numbers where a deeper list or a scalar was expected.
            "{\"inputs\":{\"a\":[1,2],\"b\":[[1,2,3]]}}",
            "{\"inputs\":{\"a\":[[[1,2]]],\"b\":[[1,2,3]]}}",
        ]
        for body in refused {
            XCTAssertThrowsError(try decode(body, twoInputs), String(body.prefix(80))) { error in
                XCTAssertEqual((error as? ServeError)?.status, 400, "\(error)")
                XCTAssertFalse("\(error)".contains("\n"), "one line: \(error)")
            }
        }
        let odd = try decode("{\"inputs\":{\"b\":[[-0,2,3]],\"a\":[[1E+2,1e-400]],\"extra\":1}}", twoInputs)
        XCTAssertEqual(odd.inputs[0].scalars, [100, 0])
        XCTAssertEqual(odd.inputs[1].scalars, [0, 2, 3])
        let nonFinite = try decode("{\"inputs\":{\"a\":[[NaN,1e999]],\"b\":[[1,2,3]]}}", twoInputs)
        XCTAssertTrue(nonFinite.inputs[0].scalars[0].isNaN)
        XCTAssertEqual(nonFinite.inputs[0].scalars[1], .infinity)
    }

    func testResponsesAreShapedAsTFServingShapesThem() {
        let single = [Tensor(shape: [2, 1], scalars: [0.5, 2])]
        func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
        XCTAssertEqual(text(PredictResponse.encode(single, names: ["dense"], format: .row)), "{\"predictions\":[[0.5],[2.0]]}")
        XCTAssertEqual(text(PredictResponse.encode(single, names: ["dense"], format: .columnar)), "{\"outputs\":[[0.5],[2.0]]}")
        let two = [Tensor(shape: [2], scalars: [1, .nan]), Tensor(shape: [2, 2], scalars: [0.1, -.infinity, 3e-8, 1e20])]
        XCTAssertEqual(text(PredictResponse.encode(two, names: ["z", "a"], format: .row)),
                       "{\"predictions\":[{\"a\":[0.1,-Infinity],\"z\":1.0},{\"a\":[3e-08,1e+20],\"z\":NaN}]}")
        XCTAssertEqual(text(PredictResponse.encode(two, names: ["z", "a"], format: .columnar)),
                       "{\"outputs\":{\"a\":[[0.1,-Infinity],[3e-08,1e+20]],\"z\":[1.0,NaN]}}")
    }
}
