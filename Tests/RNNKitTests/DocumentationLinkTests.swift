import Foundation
import XCTest

/// Every relative link in the repository's Markdown files points at a file or folder inside the
/// repository, so that a clone has everything its documents link to.
final class DocumentationLinkTests: XCTestCase {
    private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().standardizedFileURL

    func testRelativeLinksResolveInsideTheRepository() throws {
        let documents = markdownFiles()
        XCTAssertTrue(documents.contains { $0.lastPathComponent == "layouts.md" }, "docs/layouts.md is scanned")
        for document in documents {
            let text = try String(contentsOf: document, encoding: .utf8)
            for target in Self.relativeLinkTargets(in: text) {
                let resolved = document.deletingLastPathComponent().appendingPathComponent(target).standardizedFileURL
                let shown = "\(document.path.dropFirst(root.path.count + 1)) links to \(target)"
                XCTAssertTrue(resolved.path.hasPrefix(root.path + "/"), "\(shown): outside the repository")
                XCTAssertTrue(FileManager.default.fileExists(atPath: resolved.path), "\(shown): no such file")
            }
        }
    }

    func testLinkTargetsAreFoundAndFiltered() {
        let text = "See [a](docs/a.md#top), [b](<b c.md>), [web](https://x.org), [here](#part) and "
            + "![img](pic.png \"title\")."
        XCTAssertEqual(Self.relativeLinkTargets(in: text), ["docs/a.md", "b c.md", "pic.png"])
    }

    /// The `*.md` files of the repository, outside hidden folders (`.build`, `.git`).
    private func markdownFiles() -> [URL] {
        let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil,
                                                    options: [.skipsHiddenFiles])
        return (walker?.allObjects as? [URL] ?? []).filter { $0.pathExtension == "md" }
    }

    /// The targets of inline links `[text](target)` and images that are neither URLs nor anchors
    /// within the same page, without their `#fragment` and title.
    static func relativeLinkTargets(in text: String) -> [String] {
        let pattern = #"\]\(\s*(<[^>]*>|[^)\s]+)(\s+"[^"]*")?\s*\)"#
        let expression = try! NSRegularExpression(pattern: pattern)
        let range = NSRange(text.startIndex..., in: text)
        return expression.matches(in: text, range: range).compactMap { match in
            guard let found = Range(match.range(at: 1), in: text) else { return nil }
            var target = String(text[found])
            if target.hasPrefix("<") { target = String(target.dropFirst().dropLast()) }
            if target.hasPrefix("#") || target.range(of: #"^[A-Za-z][A-Za-z0-9+.-]*:"#, options: .regularExpression) != nil {
                return nil
            }
            return String(target.prefix { $0 != "#" })
        }
    }
}
