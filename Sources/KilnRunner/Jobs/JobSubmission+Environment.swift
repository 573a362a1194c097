import Foundation
import KilnCore

extension JobSubmission {
    /// The attempt's environment, the same on every backend: the defaults (PATH with the image's
    /// runtime first, LANG), the tool's envvars over them, the platform's variables (identity,
    /// job, run, port, replica) over both.
    func jobEnvironment(runtime: HostRuntimes.Found) -> [String: String] {
        let runtimeFolder = (runtime.path as NSString).deletingLastPathComponent
        var path = ["/usr/local/bin", "/usr/bin", "/bin"]
        path.removeAll { $0 == runtimeFolder }
        var defaults = ["PATH": ([runtimeFolder] + path).joined(separator: ":"), "LANG": "C.UTF-8"]
        if image.runtime == .python { defaults["PYTHONUNBUFFERED"] = "1" }
        if let launch = image.launch {
            // A built image's own folders first (its virtualenv, node_modules/.bin …), and its variables.
            defaults["PATH"] = launch.path(after: path.joined(separator: ":"))
            defaults.merge(launch.environment) { _, image in image }
        }
        var platform = [
            "HOME": home, "TOOL_NAME": tool.rawValue, "TOOL_DATA_DIR": home,
            "KILN_TOOL": tool.rawValue, "JOB_NAME": job, "KILN_JOB": job,
            "KILN_JOB_RUN": String(runID), "KILN_JOB_ATTEMPT": String(attempt),
            "KILN_IMAGE": image.shortName,
        ]
        if let user {
            platform["USER"] = user.name
            platform["LOGNAME"] = user.name
        }
        platform.merge(environment) { _, given in given }
        return ToolEnvironments.layered(defaults: defaults, tool: toolEnvironment, platform: platform)
    }
}
