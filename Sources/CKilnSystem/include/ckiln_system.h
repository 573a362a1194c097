#ifndef CKILN_SYSTEM_H
#define CKILN_SYSTEM_H

#include <sys/types.h>

/// What Swift's Glibc module does not export: returning freed heap memory to the system.
int ckiln_malloc_trim(void);

/// The calling thread's file system identity (the kernel keeps it per thread): its file system
/// uid and gid and its supplementary groups, changed by the raw system calls, not glibc's
/// wrappers, which for setgroups would change every thread of the process. Returns 0, or -1
/// with errno.
int ckiln_thread_set_fs_identity(uid_t uid, gid_t gid, size_t group_count, const gid_t *groups);

/// The calling thread's supplementary groups: how many (at most `capacity` are written), or -1.
int ckiln_thread_groups(size_t capacity, gid_t *groups);

/// Starts `path` in a session of its own, its standard input /dev/null, its output and errors
/// this process's, and `descriptors[i]` as its descriptor 3+i; every other descriptor closed.
/// Returns 0 with the child's pid in `pid`, or an errno value.
int ckiln_spawn_with_descriptors(
    const char *path, char *const argv[], char *const envp[], const int *descriptors, size_t count, pid_t *pid);

/// A copy, in this process, of descriptor `fd` of process `pid` (pidfd_getfd: root, or the same
/// user where ptrace is allowed), close-on-exec. Returns it, or -1 with errno.
int ckiln_copy_descriptor(pid_t pid, int fd);

/// renameat2(…, RENAME_NOREPLACE): `from` becomes `to` in the folder `directory` only when
/// nothing has that name (EEXIST otherwise), atomically. Returns 0, or -1 with errno.
int ckiln_rename_noreplace(int directory, const char *from, const char *to);

#endif
