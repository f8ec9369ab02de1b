import Foundation
import RNNKitTestSupport
import XCTest

@testable import RNNKit

final class JSONTests: XCTestCase {
    // MARK: - Round trips

    func testRoundTripKeepsKeyOrderAndNumberText() throws {
        let text = #"{"zeta":1,"alpha":[0.1,true,false,null,"x/y"],"mid":{"b":-2.5e-3,"a":1E5,"c":1.50,"d":[],"e":{}}}"#
        let value = try JSONParser.parse(text)
        XCTAssertEqual(value.objectValue?.keys, ["zeta", "alpha", "mid"])
        XCTAssertEqual(value["mid"]?.objectValue?.keys, ["b", "a", "c", "d", "e"])
        XCTAssertEqual(value["mid"]?["c"], .number("1.50"))
        XCTAssertEqual(JSONWriter.string(value), text)
        XCTAssertEqual(try JSONParser.parse(JSONWriter.string(value, pretty: true)), value)
    }

    func testPrettyOutput() {
        let value: JSONValue = ["name": "lstm", "units": 4, "shape": [nil, 3]]
        XCTAssertEqual(JSONWriter.string(value, pretty: true), """
            {
              "name": "lstm",
              "units": 4,
              "shape": [
                null,
                3
              ]
            }
            """)
    }

    func testFloat32SurvivesTextExactly() throws {
        var generator = SeededGenerator(seed: 20_261_130)
        let samples: [Float] = [0.1, 1 / 3, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1e-7, 123456.79]
            + (0..<200).map { _ in Float(bitPattern: UInt32.random(in: 0...0x7F7F_FFFF, using: &generator)) }
        let written = JSONWriter.string(.array(samples.map(JSONValue.float)))
        let read = try XCTUnwrap(try JSONParser.parse(written).arrayValue)
        XCTAssertEqual(read.count, samples.count)
        for (sample, value) in zip(samples, read) {
            XCTAssertEqual(value.floatValue?.bitPattern, sample.bitPattern, "\(sample) came back as \(value) (samples made with \(generator))")
        }
        XCTAssertEqual(JSONWriter.string(.float(0.1)), "0.1")
    }

    func testNonNumbers() throws {
        let value = try JSONParser.parse("[NaN, Infinity, -Infinity]")
        XCTAssertEqual(value, [.number("nan"), .number("inf"), .number("-inf")])
        XCTAssertEqual(value.arrayValue?[0].floatValue?.isNaN, true)
        XCTAssertEqual(value.arrayValue?[2].floatValue, -.infinity)
        XCTAssertEqual(JSONWriter.string(value), "[NaN,Infinity,-Infinity]")
        XCTAssertEqual(JSONWriter.string([.float(.nan), .float(.infinity), .float(-.infinity)]), "[NaN,Infinity,-Infinity]")
    }

    func testUnicodeStrings() throws {
        let value = try JSONParser.parse(#"["h\u00e9llo \ud83d\ude00", "raw é ✓ 😀", "nul \u0000 inside", "tab\tquote\"slash\/"]"#)
        XCTAssertEqual(value, ["héllo 😀", "raw é ✓ 😀", "nul \u{0} inside", "tab\tquote\"slash/"])
        XCTAssertEqual(JSONWriter.string(value), #"["héllo 😀","raw é ✓ 😀","nul \u0000 inside","tab\tquote\"slash/"]"#)
        XCTAssertEqual(try JSONParser.parse(JSONWriter.string(value)), value)
        XCTAssertEqual(try JSONParser.parse(bytes: Array(#"{"ключ": "значение"}"#.utf8)), ["ключ": "значение"])
    }

    func testBigIntegersKeepTheirText() throws {
        let text = "[9223372036854775807,9223372036854775808,18446744073709551614,-9223372036854775807,0,-1]"
        let value = try JSONParser.parse(text)
        XCTAssertEqual(value.arrayValue?[2], .number("18446744073709551614"))
        XCTAssertEqual(value.arrayValue?[0].intValue, Int.max)
        XCTAssertEqual(JSONWriter.string(value), text)
    }

    func testTopLevelScalars() throws {
        XCTAssertEqual(try JSONParser.parse("null"), .null)
        XCTAssertEqual(try JSONParser.parse(" 12 "), .int(12))
        XCTAssertEqual(try JSONParser.parse("\n-1.5e3\n"), .number("-1.5e3"))
        XCTAssertEqual(try JSONParser.parse(#""s""#), "s")
        XCTAssertEqual(try JSONParser.parse("true"), true)
        XCTAssertEqual(JSONWriter.string(.null), "null")
        XCTAssertEqual(JSONWriter.string("s"), #""s""#)
    }

    // MARK: - Errors

    func testSyntaxErrorGivesLineAndColumn() {
        assertParseError("{\n  \"a\": 1,\n  \"b\": x\n}", "invalid JSON at line 3, column 8: unexpected character")
        // Columns count characters, not bytes.
        assertParseError("[\"é✓\", x]", "invalid JSON at line 1, column 8: unexpected character")
        assertParseError("", "invalid JSON at line 1, column 1: unexpected end of data")
        assertParseError("[1,\n", "invalid JSON at line 2, column 1: unexpected end of data")
    }

    func testTrailingTextIsAnError() {
        assertParseError("[1] x", "invalid JSON at line 1, column 5: unexpected text after the JSON value")
        assertParseError("{} {}", "invalid JSON at line 1, column 4: unexpected text after the JSON value")
        assertParseError("1 2", "invalid JSON at line 1, column 3: unexpected text after the JSON value")
        XCTAssertThrowsError(try JSONParser.parse(bytes: Array("[1]".utf8) + [0, 0x20]))
    }

    func testDeepNestingIsACleanError() {
        let start = Date()
        assertParseError(String(repeating: "[", count: 100_000), "invalid JSON at line 1, column 257: nesting too deep")
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
        // Levels count values, the top-level one included: the 1 in [[1]] is on level 3.
        XCTAssertEqual(try JSONParser.parse("[[1]]", maxDepth: 3), [[1]])
        assertParseError("[[1]]", "invalid JSON at line 1, column 3: nesting too deep", maxDepth: 2)
        assertParseError(#"[{"a": 1}]"#, "invalid JSON at line 1, column 2: nesting too deep", maxDepth: 1)
        XCTAssertThrowsError(try JSONParser.parse("1", maxDepth: 0)) { error in
            XCTAssertEqual((error as? RNNKitError)?.kind, .badUsage)
        }
    }

    /// What a text's values take once parsed is bounded before parsing, not only the text's length:
    /// `0,` is two bytes of text and about `ReadLimits.jsonBytesPerValue` of tree. Commas, brackets and escaped
    /// quotes inside strings are not values.
    func testTreeSizeIsBoundedBeforeParsing() throws {
        let nested = "[0,0,[0]]"  // five values: two lists and three numbers
        let fits = 5 * ReadLimits.jsonBytesPerValue
        XCTAssertEqual(try JSONParser.parse(nested, maxTreeBytes: fits), [0, 0, [0]])
        XCTAssertThrowsError(try JSONParser.parse(bytes: Array(nested.utf8), maxTreeBytes: fits - 1)) { error in
            let error = error as? RNNKitError
            XCTAssertEqual(error?.message,
                           "JSON text of up to 5 values, which would take about \(fits) bytes parsed; the limit is \(fits - 1)")
            XCTAssertEqual(error?.liftedBy, .byteLimit(fits - 1))
        }
        let strings = #"["a,b,[c{", "\",\""]"#  // three values: a list and two strings
        XCTAssertEqual(try JSONParser.parse(strings, maxTreeBytes: 3 * ReadLimits.jsonBytesPerValue), ["a,b,[c{", "\",\""])
    }

    func testOutOfRangeIntegerIsAnErrorWithItsPointer() {
        XCTAssertThrowsError(try JSONParser.parse(#"{"layers": [{"a/b~": 99999999999999999999}]}"#)) { error in
            XCTAssertEqual(error as? RNNKitError, RNNKitError(
                .unreadable, "integer out of range: integers must lie strictly between -2^63 and 2^64-1",
                location: "/layers/0/a~1b~0"))
        }
        XCTAssertThrowsError(try JSONParser.parse("-9223372036854775809"))
    }

    func testInvalidUTF8IsAnError() {
        XCTAssertThrowsError(try JSONParser.parse(bytes: [0x5B, 0x22, 0xFF, 0x22, 0x5D])) { error in
            XCTAssertEqual(error as? RNNKitError, RNNKitError(
                .unreadable, "invalid JSON at line 1, column 3: invalid utf-8 string"))
        }
    }

    private func assertParseError(
        _ text: String, _ message: String, maxDepth: Int = 256, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try JSONParser.parse(text, maxDepth: maxDepth), file: file, line: line) { error in
            XCTAssertEqual(error as? RNNKitError, RNNKitError(.unreadable, message), file: file, line: line)
        }
    }
}
