import KilnCore

extension KilnError {
    /// The grid could not be asked (its controller, qmaster or slurmctld, or munge is down, or
    /// it did not answer in time). Retryable: nothing was decided, so the monitor keeps the
    /// submission waiting and tries again.
    public static func gridUnreachable(_ detail: String, grid: String? = nil) -> KilnError {
        var error = KilnError.backendUnreachable(grid ?? "grid", "the grid cannot be reached: \(detail)")
        error.context["grid"] = "unreachable"
        return error
    }

    /// The grid refused the job (a limit it cannot meet, a queue it does not have): trying the
    /// same submission again will not help.
    static func gridRefused(_ detail: String, grid: String) -> KilnError {
        KilnError(.badRequest, "the grid refused the job: \(detail)", context: ["grid": "refused", "backend": grid])
    }

    /// Whether this is `gridUnreachable`: the monitor keeps the submission waiting.
    public var isGridUnreachable: Bool { isBackendUnreachable && context["grid"] == "unreachable" }
}
