// kiln-enter: the first program of every process Kiln starts for a tool. Run with the platform's
// rights, it puts itself into the process's control groups, limits and network namespace,
// becomes the tool's user, enters the working folder as the tool, and executes the tool's program:
//
//   kiln-enter [-g CGROUP_PROCS]... [-d DATA_KIB] [-n NETNS] [-u UID:GID] [-C DIR] -- PROGRAM [ARG]...
//
// So nothing of the tool runs outside its groups or as root, and root never follows a link in a
// tool's home on the way to its folder. A small static C program rather than util-linux's setpriv
// and a shell: a thousand jobs a minute pay its start-up each (about a third of setpriv's).
// Errors go to standard error (the tool's log) as `kiln: ...`, and end it with 125 before the
// program runs (127 when the program cannot be executed), as the shell it replaces did.

#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <fcntl.h>

enum { cannot_enter = 125, cannot_execute = 127, most_groups = 8 };

// Says why on standard error and ends: `kiln: WHAT`, `kiln: WHAT: ERROR` or `kiln: WHAT NAME: ERROR`.
static _Noreturn void fail(int status, const char *what, const char *name, int error) {
    if (name)
        dprintf(STDERR_FILENO, "kiln: %s %s: %s\n", what, name, strerror(error));
    else if (error)
        dprintf(STDERR_FILENO, "kiln: %s: %s\n", what, strerror(error));
    else
        dprintf(STDERR_FILENO, "kiln: %s\n", what);
    _exit(status);
}

// A decimal number in [minimum, maximum], the whole of `text` up to `end` (a character or NUL).
static int parse_number(const char *text, char end, uint64_t minimum, uint64_t maximum, uint64_t *value) {
    if (*text < '0' || *text > '9') return -1;
    errno = 0;
    char *stop = NULL;
    unsigned long long parsed = strtoull(text, &stop, 10);
    if (errno != 0 || *stop != end || parsed < minimum || parsed > maximum) return -1;
    *value = parsed;
    return 0;
}

// Writes this process's pid into a group's `cgroup.procs`: the kernel moves it there.
static void enter_group(const char *procs) {
    int descriptor = open(procs, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (descriptor < 0) fail(cannot_enter, "cannot enter the control group", procs, errno);
    char pid[24];
    int length = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (write(descriptor, pid, (size_t)length) != length) fail(cannot_enter, "cannot enter the control group", procs, errno);
    close(descriptor);
}

int main(int argc, char **argv) {
    const char *groups[most_groups];
    int group_count = 0;
    const char *folder = NULL;
    const char *network = NULL;
    int has_data_limit = 0, has_user = 0;
    uint64_t data_kib = 0, uid = 0, gid = 0;

    int option;
    while ((option = getopt(argc, argv, "+g:d:n:u:C:")) != -1) {
        switch (option) {
        case 'g':
            if (group_count == most_groups) fail(cannot_enter, "too many control groups", NULL, 0);
            groups[group_count++] = optarg;
            break;
        case 'd':
            if (parse_number(optarg, '\0', 1, (uint64_t)RLIM_INFINITY / 1024 - 1, &data_kib) != 0)
                fail(cannot_enter, "kiln-enter: bad data limit (-d KiB)", NULL, 0);
            has_data_limit = 1;
            break;
        case 'u': {
            // Never root: the platform's last word that a tool's code does not run as root.
            const char *colon = strchr(optarg, ':');
            if (!colon || parse_number(optarg, ':', 1, UINT32_MAX - 1, &uid) != 0
                || parse_number(colon + 1, '\0', 1, UINT32_MAX - 1, &gid) != 0)
                fail(cannot_enter, "kiln-enter: bad user (-u UID:GID, neither 0)", NULL, 0);
            has_user = 1;
            break;
        }
        case 'n':
            network = optarg;
            break;
        case 'C':
            folder = optarg;
            break;
        default:
            fail(cannot_enter, "kiln-enter: usage: kiln-enter [-g CGROUP_PROCS]... [-d KIB] [-n NETNS] [-u UID:GID] [-C DIR] -- PROGRAM [ARG]...", NULL, 0);
        }
    }
    if (optind >= argc) fail(cannot_enter, "kiln-enter: no program to run", NULL, 0);

    // With the platform's rights: into the groups, before anything of the tool runs.
    for (int index = 0; index < group_count; index++) enter_group(groups[index]);

    if (network) {
        // A replica's network of its own (a namespace `ip netns` keeps): joined with the
        // platform's rights, which the tool's user has not, so it cannot leave it.
        int descriptor = open(network, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (descriptor < 0) fail(cannot_enter, "cannot open the network namespace", network, errno);
        if (setns(descriptor, CLONE_NEWNET) != 0) fail(cannot_enter, "cannot enter the network namespace", network, errno);
        close(descriptor);
    }

    struct rlimit no_core = {0, 0};
    if (setrlimit(RLIMIT_CORE, &no_core) != 0) fail(cannot_enter, "cannot set the core file limit", NULL, errno);
    if (has_data_limit) {
        struct rlimit data = {(rlim_t)data_kib * 1024, (rlim_t)data_kib * 1024};
        if (setrlimit(RLIMIT_DATA, &data) != 0) fail(cannot_enter, "cannot set the data segment limit", NULL, errno);
    }

    if (has_user) {
        // Supplementary groups first (it takes root), then the group, then the user. In this
        // single-threaded process the calls change the whole process.
        if (setgroups(0, NULL) != 0) fail(cannot_enter, "cannot drop supplementary groups", NULL, errno);
        if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) != 0) fail(cannot_enter, "cannot become the tool's group", NULL, errno);
        if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) != 0) fail(cannot_enter, "cannot become the tool's user", NULL, errno);
        uid_t real, effective, saved;
        if (getresuid(&real, &effective, &saved) != 0 || real != uid || effective != uid || saved != uid || setuid(0) == 0)
            fail(cannot_enter, "the tool's user did not hold", NULL, 0);
    }

    // As the tool: a link on the way leads only where the tool itself may go.
    if (folder && chdir(folder) != 0) {
        dprintf(STDERR_FILENO, "kiln: cannot enter the folder %s\n", folder);
        _exit(cannot_enter);
    }

    execv(argv[optind], argv + optind);
    fail(cannot_execute, "cannot run", argv[optind], errno);
}
