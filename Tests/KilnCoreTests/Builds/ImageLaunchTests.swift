import Foundation
import KilnCore
import Testing

@Suite struct ImageLaunchTests {
    let launch = ImageLaunch(
        language: .python, runtimeProgram: "/usr/bin/python3.11", pathEntries: ["/img/layers/python/venv/bin"],
        environment: ["VIRTUAL_ENV": "/img/layers/python/venv"],
        processes: [
            Procfile.Process(type: "web", command: "gunicorn app:app"), Procfile.Process(type: "worker", command: "python worker.py"),
        ],
        workingDirectory: "/img/app")

    @Test func aProcessTypeRunsItsCommand() {
        #expect(launch.shellCommand(for: "web") == "gunicorn app:app")
        #expect(launch.shellCommand(for: "  worker\n") == "python worker.py")
    }

    @Test func theLauncherRunsAProcessTypeOrTheCommandGiven() {
        #expect(launch.shellCommand(for: "launcher worker") == "python worker.py")
        #expect(launch.shellCommand(for: "launcher   web  ") == "gunicorn app:app")
        #expect(launch.shellCommand(for: "launcher python manage.py migrate") == "python manage.py migrate")
        #expect(launch.shellCommand(for: "launcher ./run.sh --web") == "./run.sh --web")
    }

    @Test func anyOtherCommandRunsAsGiven() {
        #expect(launch.shellCommand(for: "python manage.py migrate") == "python manage.py migrate")
        #expect(launch.shellCommand(for: " ./run.sh ") == "./run.sh")
        // Only a whole type matches: a command starting with a type's name is a command.
        #expect(launch.shellCommand(for: "web --debug") == "web --debug")
        #expect(launch.shellCommand(for: "Web") == "Web")
        #expect(launch.shellCommand(for: "launcher") == "launcher")
        #expect(launch.shellCommand(for: "launchers web") == "launchers web")
    }

    @Test func thePathPutsTheImagesFoldersThenTheRuntimesBeforeTheHosts() {
        #expect(launch.path(after: "/usr/local/bin:/usr/bin:/bin") == "/img/layers/python/venv/bin:/usr/bin:/usr/local/bin:/usr/bin:/bin")
    }

    @Test func theRuntimesFolderIsNotRepeated() {
        var own = launch
        own.pathEntries = ["/opt/py/bin", "/img/bin"]
        own.runtimeProgram = "/opt/py/bin/python3"
        #expect(own.path(after: "/bin") == "/opt/py/bin:/img/bin:/bin")
    }

    @Test func anImageWithoutARuntimeOrFoldersKeepsTheHostsPath() {
        let bare = ImageLaunch(language: .static, runtimeProgram: nil, pathEntries: [], environment: [:], processes: [], workingDirectory: "/a")
        #expect(bare.path(after: "/usr/bin:/bin") == "/usr/bin:/bin")
        #expect(bare.shellCommand(for: "launcher web") == "web")
        var relative = bare
        relative.runtimeProgram = "node"
        #expect(relative.path(after: "/bin") == "/bin")
    }

    @Test func itIsCodable() throws {
        #expect(try JSONDecoder().decode(ImageLaunch.self, from: JSONEncoder().encode(launch)) == launch)
    }
}
