#include "ckiln_socket_owner.h"

#if defined(__linux__)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

int ckiln_sock_diag_open(void) {
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    return fd < 0 ? -errno : fd;
}

static size_t address_length(int family) { return family == AF_INET ? 4 : 16; }

int ckiln_sock_diag_tcp_owner(int fd, int family, const uint8_t *local_address, uint16_t local_port,
                              const uint8_t *remote_address, uint16_t remote_port, uint32_t sequence,
                              uint32_t *uid, uint8_t *state) {
    if (family != AF_INET && family != AF_INET6) return -EAFNOSUPPORT;
    struct {
        struct nlmsghdr header;
        struct inet_diag_req_v2 request;
    } message;
    memset(&message, 0, sizeof message);
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    // No NLM_F_DUMP: the kernel looks the one socket up in its hash tables, as for a packet
    // from `remote` to `local`.
    message.header.nlmsg_flags = NLM_F_REQUEST;
    message.header.nlmsg_seq = sequence;
    message.request.sdiag_family = (uint8_t)family;
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = ~0u;
    message.request.id.idiag_sport = htons(local_port);
    message.request.id.idiag_dport = htons(remote_port);
    memcpy(message.request.id.idiag_src, local_address, address_length(family));
    memcpy(message.request.id.idiag_dst, remote_address, address_length(family));
    message.request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    message.request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(fd, &message, sizeof message, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) return -errno;

    // The answer is queued before sendto returns; a datagram of another (stale) sequence is
    // skipped, and a bounded number of them at most.
    _Alignas(struct nlmsghdr) char buffer[4096];
    for (int attempt = 0; attempt < 8; attempt++) {
        ssize_t length = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (length < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
        int remaining = (int)length;
        for (struct nlmsghdr *header = (struct nlmsghdr *)buffer; NLMSG_OK(header, remaining);
             header = NLMSG_NEXT(header, remaining)) {
            if (header->nlmsg_seq != sequence) continue;
            if (header->nlmsg_type == NLMSG_ERROR) {
                if (header->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) return -EPROTO;
                const struct nlmsgerr *error = NLMSG_DATA(header);
                return error->error < 0 ? error->error : -EPROTO;
            }
            if (header->nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
            if (header->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) return -EPROTO;
            const struct inet_diag_msg *answer = NLMSG_DATA(header);
            *uid = answer->idiag_uid;
            *state = answer->idiag_state;
            return 0;
        }
    }
    return -EPROTO;
}

/// One line's address as /proc prints it: each 32-bit word of the address in host order, in hex.
static int parse_proc_address(const char *hex, size_t words, uint8_t *address) {
    if (strlen(hex) != words * 8) return -1;
    for (size_t word = 0; word < words; word++) {
        char digits[9];
        memcpy(digits, hex + word * 8, 8);
        digits[8] = 0;
        char *end = NULL;
        unsigned long value = strtoul(digits, &end, 16);
        if (end != digits + 8) return -1;
        uint32_t raw = (uint32_t)value;
        memcpy(address + word * 4, &raw, 4);
    }
    return 0;
}

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/// How well a listener bound to `bound` (of `bound_family`) takes a connection to `wanted` (of
/// `family`): 2 exactly, 1 as a wildcard, 0 not at all.
static int listener_match(int family, const uint8_t *wanted, int bound_family, const uint8_t *bound) {
    static const uint8_t any[16] = {0};
    if (bound_family == family) {
        if (memcmp(bound, wanted, address_length(family)) == 0) return 2;
        return memcmp(bound, any, address_length(family)) == 0 ? 1 : 0;
    }
    // A v4 connection reaches a dual-stack v6 listener at `::` or `::ffff:a.b.c.d`.
    if (family == AF_INET && bound_family == AF_INET6) {
        if (memcmp(bound, any, 16) == 0) return 1;
        if (memcmp(bound, v4_mapped_prefix, 12) == 0 && memcmp(bound + 12, wanted, 4) == 0) return 2;
    }
    return 0;
}

/// Scans one /proc table; `best` is the rank of the best listener found so far (0 none, 2 exact).
static int scan_proc_table(const char *path, int table_family, int family, const uint8_t *local_address,
                           uint16_t local_port, const uint8_t *remote_address, uint16_t remote_port, int *best,
                           uint32_t *uid, uint8_t *state) {
    FILE *file = fopen(path, "re");
    if (file == NULL) return -errno;
    size_t words = table_family == AF_INET ? 1 : 4;
    char line[512];
    // The header line.
    if (fgets(line, sizeof line, file) == NULL) {
        fclose(file);
        return -EPROTO;
    }
    int found_exact_peer = 0;
    while (fgets(line, sizeof line, file) != NULL) {
        char local_hex[33], remote_hex[33];
        unsigned int line_local_port, line_remote_port, line_state, line_uid;
        if (sscanf(line, " %*u: %32[0-9A-Fa-f]:%x %32[0-9A-Fa-f]:%x %x %*x:%*x %*x:%*x %*x %u", local_hex,
                   &line_local_port, remote_hex, &line_remote_port, &line_state, &line_uid) != 6)
            continue;
        if (line_local_port != local_port) continue;
        uint8_t line_local[16], line_remote[16];
        if (parse_proc_address(local_hex, words, line_local) != 0 || parse_proc_address(remote_hex, words, line_remote) != 0)
            continue;
        if (remote_port != 0) {
            // A connection: its two endpoints exactly, in the question's own family.
            if (table_family == family && line_remote_port == remote_port &&
                memcmp(line_local, local_address, address_length(family)) == 0 &&
                memcmp(line_remote, remote_address, address_length(family)) == 0) {
                *uid = line_uid;
                *state = (uint8_t)line_state;
                found_exact_peer = 1;
                break;
            }
            continue;
        }
        if (line_state != CKILN_TCP_STATE_LISTEN) continue;
        int rank = listener_match(family, local_address, table_family, line_local);
        if (rank > *best) {
            *best = rank;
            *uid = line_uid;
            *state = (uint8_t)line_state;
        }
    }
    fclose(file);
    if (remote_port != 0 && found_exact_peer) *best = 2;
    return 0;
}

int ckiln_proc_tcp_owner(int family, const uint8_t *local_address, uint16_t local_port,
                         const uint8_t *remote_address, uint16_t remote_port, uint32_t *uid, uint8_t *state) {
    if (family != AF_INET && family != AF_INET6) return -EAFNOSUPPORT;
    int best = 0;
    int status = scan_proc_table(family == AF_INET ? "/proc/net/tcp" : "/proc/net/tcp6", family, family, local_address,
                                 local_port, remote_address, remote_port, &best, uid, state);
    if (status != 0) return status;
    if (family == AF_INET && remote_port == 0 && best < 2) {
        // Dual-stack listeners are in the v6 table; a host without IPv6 has none.
        status = scan_proc_table("/proc/net/tcp6", AF_INET6, family, local_address, local_port, remote_address,
                                 remote_port, &best, uid, state);
        if (status != 0 && status != -ENOENT) return status;
    }
    return best > 0 ? 0 : -ENOENT;
}

#else
#include <errno.h>

int ckiln_sock_diag_open(void) { return -ENOSYS; }

int ckiln_sock_diag_tcp_owner(int fd, int family, const uint8_t *local_address, uint16_t local_port,
                              const uint8_t *remote_address, uint16_t remote_port, uint32_t sequence,
                              uint32_t *uid, uint8_t *state) {
    return -ENOSYS;
}

int ckiln_proc_tcp_owner(int family, const uint8_t *local_address, uint16_t local_port,
                         const uint8_t *remote_address, uint16_t remote_port, uint32_t *uid, uint8_t *state) {
    return -ENOSYS;
}
#endif
