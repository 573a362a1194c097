import KilnCore
import Synchronization

@testable import KilnRunner

/// A grid that answers from recorded outputs: each command goes to `answer`, which says what
/// the real program said (or throws as the runner would); every command is kept to be looked at.
final class RecordedGridRunner: GridCommandRunner {
    let answer: @Sendable (GridCommand) throws(KilnError) -> GridCommand.Result
    private let log = Mutex<[GridCommand]>([])

    init(_ answer: @escaping @Sendable (GridCommand) throws(KilnError) -> GridCommand.Result) {
        self.answer = answer
    }

    var commands: [GridCommand] { log.withLock { $0 } }
    func commands(_ program: String) -> [GridCommand] { commands.filter { $0.program == program } }

    func run(_ command: GridCommand, timeout: Duration) async throws(KilnError) -> GridCommand.Result {
        log.withLock { $0.append(command) }
        return try answer(command)
    }
}

/// State a recorded grid's answers change as a test goes (what the listing shows now).
final class GridScript: Sendable {
    private let state = Mutex<[String: String]>([:])
    subscript(key: String) -> String? {
        get { state.withLock { $0[key] } }
        set { state.withLock { $0[key] = newValue } }
    }
}
