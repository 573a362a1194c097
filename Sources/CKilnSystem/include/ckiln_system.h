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

#endif
