#define _GNU_SOURCE
#include "ckiln_system.h"

#if defined(__linux__) && defined(__GLIBC__)
#include <errno.h>
#include <malloc.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
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

int ckiln_spawn_with_descriptors(
    const char *path, char *const argv[], char *const envp[], const int *descriptors, size_t count, pid_t *pid) {
    if (count > 64) return EINVAL;
    const int first = 3;
    int sources[64];
    // A source numbered where another lands (3+j) would be overwritten before it is copied: move
    // every source above the targets first.
    for (size_t i = 0; i < count; i++) {
        sources[i] = descriptors[i];
        if (sources[i] < first + (int)count) {
            int moved = fcntl(descriptors[i], F_DUPFD_CLOEXEC, first + (int)count);
            if (moved < 0) {
                for (size_t j = 0; j < i; j++) if (sources[j] != descriptors[j]) close(sources[j]);
                return errno;
            }
            sources[i] = moved;
        }
    }
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int result = posix_spawn_file_actions_init(&actions);
    if (result == 0) result = posix_spawnattr_init(&attributes);
    if (result == 0) result = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);
    if (result == 0) result = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    for (size_t i = 0; i < count && result == 0; i++) {
        result = posix_spawn_file_actions_adddup2(&actions, sources[i], first + (int)i);
    }
    if (result == 0) result = posix_spawn_file_actions_addclosefrom_np(&actions, first + (int)count);
    if (result == 0) result = posix_spawn(pid, path, &actions, &attributes, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    for (size_t i = 0; i < count; i++) if (sources[i] != descriptors[i]) close(sources[i]);
    return result;
}

int ckiln_copy_descriptor(pid_t pid, int fd) {
    int process = (int)syscall(SYS_pidfd_open, pid, 0);
    if (process < 0) return -1;
    int copy = (int)syscall(SYS_pidfd_getfd, process, fd, 0);
    int saved = errno;
    close(process);
    errno = saved;
    return copy;
}

int ckiln_rename_noreplace(int directory, const char *from, const char *to) {
    return (int)syscall(SYS_renameat2, directory, from, directory, to, RENAME_NOREPLACE);
}
#else
#include <errno.h>
int ckiln_rename_noreplace(int directory, const char *from, const char *to) {
    errno = ENOSYS;
    return -1;
}
int ckiln_malloc_trim(void) { return 0; }
int ckiln_thread_set_fs_identity(uid_t uid, gid_t gid, size_t group_count, const gid_t *groups) {
    errno = ENOSYS;
    return -1;
}
int ckiln_thread_groups(size_t capacity, gid_t *groups) {
    errno = ENOSYS;
    return -1;
}
int ckiln_spawn_with_descriptors(
    const char *path, char *const argv[], char *const envp[], const int *descriptors, size_t count, pid_t *pid) {
    return ENOSYS;
}
int ckiln_copy_descriptor(pid_t pid, int fd) {
    errno = ENOSYS;
    return -1;
}
#endif
