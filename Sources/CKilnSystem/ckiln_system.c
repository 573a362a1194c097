#define _GNU_SOURCE
#include "ckiln_system.h"

#if defined(__linux__) && defined(__GLIBC__)
#include <errno.h>
#include <malloc.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

int ckiln_malloc_trim(void) { return malloc_trim(0); }

int ckiln_thread_set_fs_identity(uid_t uid, gid_t gid, size_t group_count, const gid_t *groups) {
    if (syscall(SYS_setgroups, group_count, groups) != 0) return -1;
    // setfsuid/setfsgid return the previous id and cannot report failure: ask again to know.
    syscall(SYS_setfsgid, gid);
    syscall(SYS_setfsuid, uid);
    if ((gid_t)syscall(SYS_setfsgid, (gid_t)-1) != gid || (uid_t)syscall(SYS_setfsuid, (uid_t)-1) != uid) {
        errno = EPERM;
        return -1;
    }
    return 0;
}

int ckiln_thread_groups(size_t capacity, gid_t *groups) { return (int)syscall(SYS_getgroups, capacity, groups); }
#else
#include <errno.h>
int ckiln_malloc_trim(void) { return 0; }
int ckiln_thread_set_fs_identity(uid_t uid, gid_t gid, size_t group_count, const gid_t *groups) {
    errno = ENOSYS;
    return -1;
}
int ckiln_thread_groups(size_t capacity, gid_t *groups) {
    errno = ENOSYS;
    return -1;
}
#endif
