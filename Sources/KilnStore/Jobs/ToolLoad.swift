import KilnCore

/// What a tool has declared that counts against its quota, as one store transaction saw it: its
/// jobs and its webservice. Quota checks run on it inside the transaction that changes either,
/// so two changes at once (a job and a webservice start) cannot both pass on a stale view.
public struct ToolLoad: Sendable {
    public var jobs: [JobSpec]
    public var webservice: WebserviceSpec?

    public init(jobs: [JobSpec], webservice: WebserviceSpec?) {
        self.jobs = jobs
        self.webservice = webservice
    }
}
