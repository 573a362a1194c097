#ifndef CKILN_SOCKET_OWNER_H
#define CKILN_SOCKET_OWNER_H

#include <stdint.h>

/// Which user owns a TCP socket of this host, read from the kernel: sock_diag netlink (as `ss`
/// does), or /proc/net/tcp{,6} where netlink is unavailable. Nothing here allocates beyond a
/// stack buffer (and stdio's for the /proc fallback), and nothing blocks: netlink answers a
/// request before `sendto` returns, so the answer is read without waiting.
///
/// A socket is named by its own endpoint (`local`) and its peer's (`remote`); addresses are 4
/// (AF_INET) or 16 (AF_INET6) bytes in network order, ports in host order. With a remote port of
/// 0 the question is "which listener would take a connection to `local`" (the kernel's own
/// lookup, wildcard addresses and dual-stack sockets included).

/// The kernel's states of a TCP socket that is not a full socket (no owner is kept for it).
#define CKILN_TCP_STATE_SYN_RECV 3
#define CKILN_TCP_STATE_TIME_WAIT 6
#define CKILN_TCP_STATE_LISTEN 10

/// A NETLINK_SOCK_DIAG socket, or -errno.
int ckiln_sock_diag_open(void);

/// Asks the kernel for the socket at (`local`, `remote`) through the netlink socket `fd`.
/// Returns 0 and sets `uid` and `state`, -ENOENT when there is no such socket, or -errno.
int ckiln_sock_diag_tcp_owner(int fd, int family, const uint8_t *local_address, uint16_t local_port,
                              const uint8_t *remote_address, uint16_t remote_port, uint32_t sequence,
                              uint32_t *uid, uint8_t *state);

/// The same question answered from /proc/net/tcp (AF_INET) or /proc/net/tcp6 (AF_INET6). For a
/// listener, an exact address wins over a wildcard one; a v4 question also looks at dual-stack
/// v6 listeners (`::` and `::ffff:a.b.c.d`).
int ckiln_proc_tcp_owner(int family, const uint8_t *local_address, uint16_t local_port,
                         const uint8_t *remote_address, uint16_t remote_port, uint32_t *uid, uint8_t *state);

#endif
