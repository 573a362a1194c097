import KilnCore

/// One event loop's copy of the route table: requests on the loop are matched against it with
/// no lock and no atomic read-modify-write; when the shared reference's generation has moved, it
/// takes the new table first (one copy per change, sharing the table's storage).
final class LoopRouteTable {
    private let reference: RouteTableReference
    private var table: RouteTable
    private var generation: UInt64

    init(_ reference: RouteTableReference) {
        self.reference = reference
        (table, generation) = reference.current()
    }

    func resolve(host: Substring?, path: Substring, domain: String, pathRouting: PathRouting = .serve) -> RouteResolution {
        if reference.generation != generation { (table, generation) = reference.current() }
        return table.resolve(host: host, path: path, domain: domain, pathRouting: pathRouting)
    }
}
