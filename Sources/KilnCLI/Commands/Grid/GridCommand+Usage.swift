import KilnFormats

extension GridCommand {
    /// The usage jsub printed, with what each option does here; jstop's when `invocation` is nil.
    static func usage(_ invocation: JsubOptions.Invocation?) -> String {
        guard let invocation else {
            return """
                usage: jstop NAME   [--data DIR] [--tool NAME]

                Stops the job NAME that jsub or jstart started (Kiln deletes it, as `kiln jobs delete`).
                """
        }
        let name = invocation.rawValue
        return """
            usage: \(name) [options...] program [arg...]

            Runs the program (as given, in the tool's home) as a Kiln job of the Debian image (bookworm):
            a one-off job, or a continuous one with -continuous or as jstart; `kiln jobs` sees it too.
            Output is appended to ~/NAME.out and errors to ~/NAME.err unless -o and -e say otherwise.

             -N <name>         The job's name (default: the program's name up to its first dot).
             -mem <value>      Memory for the job: a number and k, m or g (default 512m).
             -l <resources>    h_vmem=<value> (as -mem), virtual_free=<value>, h_rt=<HH:MM:SS|INFINITY>,
                               release=<name> (accepted, ignored).
             -once             Only start it when no job of that name runs (default as jstart, qcronsub).
             -continuous       A continuous job, restarted when it ends (default as jstart).
             -quiet            Say nothing when it is submitted.
             -stderr           Say jsub's own errors on standard error, not in the job's error file.
             -o <path>, -e <path>  Where output and errors go (relative to the home, or to -cwd).
             -j y              Errors go to the output file.
             -cwd, -wd <dir>   Run where jsub was called, or in <dir>, instead of the home.
             -v NAME=VALUE,…   Variables for the job (-v NAME takes its value from here).
             -i <path>         The job's standard input.
             -sync y           Wait for the job to end, and exit with its code.
             -b, -now, -p, -q, -hard, -soft, -umask  Accepted; nothing to change here.

            Kiln's: --data DIR (the server's data directory), --tool NAME (as the admin).
            Exit codes: 0, or 1 for any error.
            """
    }
}
