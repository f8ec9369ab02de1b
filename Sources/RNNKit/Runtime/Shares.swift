import Dispatch

extension RNNKitRuntime {
    /// Calls `body` over `items` independent items split into contiguous shares, one per thread
    /// when the work (`multiplyAddsPerItem` for each item) is worth waking threads for; each share
    /// but the last holds a multiple of `granule` items (the packed product's rows go six at a
    /// time). With one thread, one call over all the items.
    static func forEachShare(of items: Int, multiplyAddsPerItem: Int, granule: Int = 1,
                             _ body: (Range<Int>) -> Void) {
        let shares = parts(threads: threadCount, items: items / granule, multiplyAdds: items * multiplyAddsPerItem)
        guard shares > 1 else { return body(0..<items) }
        // Rounded up twice, so that the shares cover every item.
        let perShare = ((items + shares - 1) / shares + granule - 1) / granule * granule
        DispatchQueue.concurrentPerform(iterations: shares) { share in
            let first = share * perShare
            guard first < items else { return }
            body(first..<min(items, first + perShare))
        }
    }
}
