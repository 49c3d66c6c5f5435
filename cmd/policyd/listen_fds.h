/*
 * listen_fds.h - listening sockets handed over by systemd (or any
 * service manager speaking the same protocol): socket activation
 * without libsystemd.
 */
#ifndef SPF_CMD_LISTEN_FDS_H
#define SPF_CMD_LISTEN_FDS_H

#include <stddef.h>

/* The first inherited descriptor (SD_LISTEN_FDS_START). */
#define LISTEN_FDS_START 3

typedef struct {
	int fd;
	char name[64];   /* from LISTEN_FDNAMES, or "fd N" */
} listen_fd_t;

/*
 * The sockets passed to this process: LISTEN_PID must be our pid and
 * LISTEN_FDS the count, the descriptors LISTEN_FDS_START onwards;
 * LISTEN_FDNAMES (optional) names them, colon-separated.  The three
 * variables are removed from the environment either way, as
 * sd_listen_fds(1) does, so nothing started later mistakes them for its
 * own.  Each descriptor is checked to be a listening stream socket
 * (not a connection: the .socket unit needs Accept=no) and is made
 * close-on-exec and non-blocking.
 *
 * Returns how many were passed (0: none, not socket-activated, or
 * LISTEN_PID names another process) with out[0..n-1] filled; at most
 * max.  Returns -1 with a reason in err (errlen bytes, NUL-terminated)
 * when the variables are malformed, there are more than max, or a
 * descriptor is not a listening stream socket.
 */
int listen_fds_get(listen_fd_t *out, size_t max, char *err, size_t errlen);

#endif
