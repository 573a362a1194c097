import Foundation
import KilnRunner
import Logging
import ServiceLifecycle
import Subprocess
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

/// Runs the platform's proxy as a process of its own (`ProxySupervision` decides): a crash of the
/// control plane leaves it serving its last routes, and a crash of the proxy is repaired at once.
/// SIGHUP replaces it without a gap (a new binary or configuration). The proxy is its own session,
/// so a Ctrl-C meant for `kiln serve` reaches it only through the supervisor's stop.
final class ProxySupervisor: Service, Sendable {
    enum Event: Sendable {
        case started(ProxyReadyFile.Process)
        case startFailed
        case exited(ProxyReadyFile.Process)
        case reload
        case stop
    }

    let executable: String
    let arguments: [String]
    let readyFile: ProxyReadyFile
    let logger: Logger
    /// How long a new proxy may take to listen and route before it counts as failed.
    let startTimeout: Duration
    /// How long a proxy told to stop may take to finish what it serves before it is killed.
    let stopGrace: Duration

    init(
        executable: String, arguments: [String], readyFile: ProxyReadyFile, logger: Logger, startTimeout: Duration = .seconds(30),
        stopGrace: Duration = .seconds(10)
    ) {
        self.executable = executable
        self.arguments = arguments
        self.readyFile = readyFile
        self.logger = logger
        self.startTimeout = startTimeout
        self.stopGrace = stopGrace
    }

    func run() async throws {
        let (events, input) = AsyncStream<Event>.makeStream()
        let reloads = Task {
            for await _ in await UnixSignalsSequence(trapping: .sighup) { input.yield(.reload) }
        }
        defer { reloads.cancel() }
        var supervision = ProxySupervision()
        let adopted = readyFile.runningProcess()
        if let adopted { logger.notice("proxy: still serving from before; adopted", metadata: ["pid": "\(adopted.pid)"]) }
        await withGracefulShutdownHandler {
            var action = supervision.begin(adopting: adopted)
            var events = events.makeAsyncIterator()
            while true {
                if case .finished = action { break }
                await perform(action, input: input)
                if case .stopped = supervision.state { break }
                guard let event = await events.next() else { break }
                switch event {
                case .started(let process):
                    logger.notice("proxy: serving", metadata: ["pid": "\(process.pid)"])
                    action = supervision.started(process)
                case .startFailed:
                    action = supervision.startFailed()
                    if case .serving = supervision.state { logger.error("proxy: the replacement did not start; the proxy serving goes on") }
                case .exited(let process):
                    action = supervision.exited(process)
                    if case .starting = supervision.state { logger.error("proxy: exited; starting it again", metadata: ["pid": "\(process.pid)"]) }
                case .reload:
                    logger.notice("proxy: replacing it (SIGHUP)")
                    action = supervision.reload()
                case .stop:
                    action = supervision.stop()
                }
            }
        } onGracefulShutdown: {
            input.yield(.stop)
        }
        readyFile.remove()
    }

    private func perform(_ action: ProxySupervision.Action, input: AsyncStream<Event>.Continuation) async {
        switch action {
        case .none, .finished:
            break
        case .start(let delay):
            Task {
                if delay > .zero { try? await Task.sleep(for: delay) }
                input.yield(await self.start().map { .started($0) } ?? .startFailed)
            }
        case .watch(let process):
            watch(process, input: input)
        case .watchAndDrain(let new, let old):
            watch(new, input: input)
            // The old proxy closes its listeners and finishes what it serves (its graceful stop).
            kill(old.pid, SIGTERM)
        case .stop(let process):
            await ProcessInspector.stopGroup(process.pid, start: process.start, grace: stopGrace)
        }
    }

    private func watch(_ process: ProxyReadyFile.Process, input: AsyncStream<Event>.Continuation) {
        Task {
            try? await ProcessInspector.waitForExit(pid: process.pid, start: process.start, every: .milliseconds(50))
            input.yield(.exited(process))
        }
    }

    /// Starts a proxy and waits until it is ready; nil when it ends or times out first.
    private func start() async -> ProxyReadyFile.Process? {
        let (spawned, announce) = AsyncStream<Int32>.makeStream()
        let executable = self.executable
        let arguments = self.arguments
        let logger = self.logger
        // Not a child of any task of the platform's: the proxy outlives a stop of the platform
        // that is not a graceful one.
        Task.detached {
            var options = PlatformOptions()
            options.createSession = true
            do {
                _ = try await Subprocess.run(
                    .path(.init(executable)), arguments: Arguments(arguments), platformOptions: options, input: .none,
                    output: .fileDescriptor(.standardOutput, closeAfterSpawningProcess: false),
                    error: .fileDescriptor(.standardError, closeAfterSpawningProcess: false)
                ) { execution in
                    announce.yield(execution.processIdentifier.value)
                    announce.finish()
                }
            } catch {
                logger.error("proxy: cannot start \(executable)", metadata: ["error": "\(error)"])
            }
            announce.finish()
        }
        var iterator = spawned.makeAsyncIterator()
        guard let pid = await iterator.next(), let start = ProcessInspector.startTime(of: pid) else { return nil }
        let deadline = ContinuousClock.now + startTimeout
        while ContinuousClock.now < deadline {
            if let ready = readyFile.runningProcess(), ready.pid == pid { return ready }
            guard ProcessInspector.isAlive(pid: pid, start: start) else { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        logger.error("proxy: not ready within \(startTimeout); stopping it", metadata: ["pid": "\(pid)"])
        await ProcessInspector.stopGroup(pid, start: start, grace: stopGrace)
        return nil
    }
}
