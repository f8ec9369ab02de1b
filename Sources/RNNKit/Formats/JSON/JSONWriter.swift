internal import CJSONC

/// Writes `JSONValue` as JSON text with json-c.
enum JSONWriter {
    /// The JSON text of `value`: compact, or when `pretty` indented by two spaces with a space
    /// after each colon, as Python's `json.dumps(indent=2)` writes it.
    ///
    /// Numbers are written with their text unchanged, except the non-numbers "nan", "inf" and
    /// "-inf", which become `NaN`, `Infinity` and `-Infinity` as Python's `json` writes them.
    /// Slashes are not escaped. Object keys are C strings in json-c, so a key ends at its first
    /// NUL character.
    static func string(_ value: JSONValue, pretty: Bool = false) -> String {
        let object = makeObject(value)
        defer { json_object_put(object) }
        let layout = pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN
        var length = 0
        let text = json_object_to_json_string_length(object, layout | JSON_C_TO_STRING_NOSLASHESCAPE, &length)
        return String(decoding: UnsafeRawBufferPointer(start: text, count: length), as: UTF8.self)
    }

    /// A new json-c object for `value`, owned by the caller; nil is json-c's JSON null.
    private static func makeObject(_ value: JSONValue) -> OpaquePointer? {
        switch value {
        case .null:
            return nil
        case .bool(let flag):
            return allocated(json_object_new_boolean(flag ? 1 : 0))
        case .number(let text):
            // The double matters only to json-c's own accessors; the text is what gets written.
            let written = jsonNumberText(text)
            return allocated(json_object_new_double_s(Double(text) ?? 0, written))
        case .string(let string):
            // Passing the length keeps NUL characters inside the string.
            return allocated(json_object_new_string_len(string, Int32(string.utf8.count)))
        case .array(let elements):
            let array = allocated(json_object_new_array_ext(Int32(clamping: elements.count)))
            for element in elements {
                // The array takes ownership of the element.
                json_object_array_add(array, makeObject(element))
            }
            return array
        case .object(let entries):
            let object = allocated(json_object_new_object())
            for (key, element) in entries.entries {
                // The object copies the key and takes ownership of the element.
                json_object_object_add(object, key, makeObject(element))
            }
            return object
        }
    }

    /// `NaN`, `Infinity` or `-Infinity` for the non-numbers, otherwise `text` itself.
    private static func jsonNumberText(_ text: String) -> String {
        guard text.drop(while: { $0 == "-" }).first?.isLetter == true, let number = Double(text) else {
            return text
        }
        if number.isNaN { return "NaN" }
        return number < 0 ? "-Infinity" : "Infinity"
    }

    /// json-c returns nil only when memory runs out, where Swift itself would stop too.
    private static func allocated(_ object: OpaquePointer?) -> OpaquePointer {
        guard let object else { fatalError("json-c could not allocate memory") }
        return object
    }
}
