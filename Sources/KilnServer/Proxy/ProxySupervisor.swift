import CKilnSystem
import Foundation
import KilnCore
import KilnProxy
import KilnRunner
import Logging
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

/// Runs the platform's proxy as a process of its own (`ProxySupervision` decides): a crash of the
/// control plane leaves it serving its last routes, and a crash of the proxy is repaired at once.
/// SIGHUP replaces it without a gap (a new binary or configuration). The proxy is its own session,
/// so a Ctrl-C meant for `kiln serve` reaches it only through the supervisor's stop. The listening
/// sockets are the supervisor's (`ProxyListeners`): every proxy it starts is handed them.
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
    /// Where the proxy listens, by listener name.
    let addresses: [(name: String, address: HostPort)]
    let readyFile: ProxyReadyFile
    let logger: Logger
    /// How long a new proxy may take to listen and route before it counts as failed.
    let startTimeout: Duration
    /// How long a proxy told to stop may take to finish what it serves before it is killed.
    let stopGrace: Duration

    init(
        executable: String, arguments: [String], addresses: [(name: String, address: HostPort)], readyFile: ProxyReadyFile,
        logger: Logger, startTimeout: Duration = .seconds(30),
        stopGrace: Duration = .seconds(10)
    ) {
        self.executable = executable
        self.arguments = arguments
        self.addresses = addresses
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
        let listeners = try adopted.flatMap { ProxyListeners.copy(from: $0.pid, addresses, logger: logger) } ?? ProxyListeners.bind(addresses)
        await withGracefulShutdownHandler {
            var action = supervision.begin(adopting: adopted)
            var events = events.makeAsyncIterator()
            while true {
                if case .finished = action { break }
                await perform(action, listeners: listeners, input: input)
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

    private func perform(_ action: ProxySupervision.Action, listeners: ProxyListeners, input: AsyncStream<Event>.Continuation) async {
        switch action {
        case .none, .finished:
            break
        case .start(let delay):
            Task {
                if delay > .zero { try? await Task.sleep(for: delay) }
                input.yield(await self.start(listeners: listeners).map { .started($0) } ?? .startFailed)
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
            Self.reap(process.pid)
            input.yield(.exited(process))
        }
    }

    /// Starts a proxy and waits until it is ready; nil when it ends or times out first.
    private func start(listeners: ProxyListeners) async -> ProxyReadyFile.Process? {
        let pid: Int32
        do {
            pid = try spawn(listeners: listeners)
        } catch {
            logger.error("proxy: cannot start \(executable)", metadata: ["error": "\(error)"])
            return nil
        }
        guard let start = ProcessInspector.startTime(of: pid) else {
            Self.reap(pid)
            return nil
        }
        let deadline = ContinuousClock.now + startTimeout
        while ContinuousClock.now < deadline {
            if let ready = readyFile.runningProcess(), ready.pid == pid { return ready }
            guard ProcessInspector.isAlive(pid: pid, start: start) else {
                Self.reap(pid)
                return nil
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        logger.error("proxy: not ready within \(startTimeout); stopping it", metadata: ["pid": "\(pid)"])
        await ProcessInspector.stopGroup(pid, start: start, grace: stopGrace)
        Self.reap(pid)
        return nil
    }

    /// Starts the proxy's process in a session of its own (it outlives a stop of the platform
    /// that is not a graceful one) with the listeners as its descriptors 3, 4, ….
    private func spawn(listeners: ProxyListeners) throws(KilnError) -> Int32 {
        var environment = ProcessInfo.processInfo.environment
        environment[InheritedListeners.environmentName] = listeners.inherited.environmentValue
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        let descriptors = listeners.listeners.map(\.descriptor)
        var pid: pid_t = 0
        let result = descriptors.withUnsafeBufferPointer { descriptors in
            ckiln_spawn_with_descriptors(executable, argv, envp, descriptors.baseAddress, descriptors.count, &pid)
        }
        guard result == 0 else { throw KilnError(.internalError, "cannot start \(executable): \(String(cString: strerror(result)))") }
        return pid
    }

    /// Collects the exit of a proxy that was this process's child (an adopted one is not: no-op).
    static func reap(_ pid: Int32) {
        var status: Int32 = 0
        _ = waitpid(pid, &status, WNOHANG)
    }
}
