/*
 * listen_fds.c - sockets handed over by the service manager (systemd's
 * socket activation, sd_listen_fds(3)) for `spfcheck policyd`.
 *
 * DESCRIPTION
 *	systemd opens the sockets of spfcheck-policyd.socket itself, as
 *	root and before the service starts, and passes them as descriptors
 *	3, 4, ... with three environment variables: LISTEN_PID (the pid
 *	they are meant for: a variable inherited by some other process must
 *	be ignored), LISTEN_FDS (how many) and LISTEN_FDNAMES (their
 *	FileDescriptorName=, colon-separated).  Reading them takes a few
 *	lines, so spfcheck does not link libsystemd for it; the protocol is
 *	a stable interface (systemd's "Interface Portability and Stability
 *	Promise") that other managers (s6, launchd-alikes, test helpers)
 *	speak too.
 *
 *	The service never creates, chowns or removes these socket files:
 *	they belong to the socket unit, which keeps them across restarts
 *	(so Postfix never finds the socket missing).
 *
 * DIAGNOSTICS
 *	A malformed LISTEN_PID or LISTEN_FDS, too many descriptors, or a
 *	descriptor that is not a listening stream socket is an error: the
 *	unit file is wrong (Accept=yes, ListenDatagram=), and serving
 *	nothing would hide it.
 */
#include "listen_fds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A decimal number of at most max, all of s. */
static bool parse_num(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0' && *out <= max;
}

/* Name i of the colon-separated list names (NULL: none) into buf. */
static void fd_name(const char *names, size_t i, int fd, char *buf, size_t len)
{
	const char *p = names, *colon;

	for (; p != NULL && i > 0; i--) {
		p = strchr(p, ':');
		if (p != NULL)
			p++;
	}
	if (p == NULL || *p == '\0' || *p == ':') {
		snprintf(buf, len, "fd %d", fd);
		return;
	}
	colon = strchr(p, ':');
	snprintf(buf, len, "%.*s", (int)(colon ? (size_t)(colon - p) : strlen(p)), p);
}

/* fd is a stream socket in the listening state, or err says why not. */
static bool listening_stream(int fd, char *err, size_t errlen)
{
	int type = 0, acc = 0;
	socklen_t tl = sizeof(type), al = sizeof(acc);

	if (fcntl(fd, F_GETFD) < 0) {
		snprintf(err, errlen, "LISTEN_FDS: descriptor %d is not open", fd);
		return false;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0) {
		snprintf(err, errlen, "LISTEN_FDS: descriptor %d is not a socket (%s)", fd,
			strerror(errno));
		return false;
	}
	if (type != SOCK_STREAM) {
		snprintf(err, errlen, "LISTEN_FDS: descriptor %d is not a stream socket "
			"(the socket unit needs ListenStream=)", fd);
		return false;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &al) != 0 || !acc) {
		snprintf(err, errlen, "LISTEN_FDS: descriptor %d is not a listening socket "
			"(the socket unit needs Accept=no)", fd);
		return false;
	}
	return true;
}

int listen_fds_get(listen_fd_t *out, size_t max, char *err, size_t errlen)
{
	/* valid until the unsetenv() at the end */
	const char *pid_s = getenv("LISTEN_PID"), *n_s = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	unsigned long pid, n = 0;
	int rc = -1;

	err[0] = '\0';
	if (pid_s == NULL && n_s == NULL) {
		rc = 0;
		goto done;
	}
	if (!parse_num(pid_s, (unsigned long)-1, &pid)) {
		snprintf(err, errlen, "LISTEN_PID '%s': not a process id", pid_s ? pid_s : "");
		goto done;
	}
	if (pid != (unsigned long)getpid()) {
		rc = 0;   /* meant for another process (inherited) */
		goto done;
	}
	if (!parse_num(n_s, 1000, &n)) {
		snprintf(err, errlen, "LISTEN_FDS '%s': not a number of descriptors",
			n_s ? n_s : "");
		goto done;
	}
	if (n > max) {
		snprintf(err, errlen, "LISTEN_FDS: %lu sockets passed, at most %zu", n, max);
		goto done;
	}
	for (unsigned long i = 0; i < n; i++) {
		int fd = LISTEN_FDS_START + (int)i, fl;

		if (!listening_stream(fd, err, errlen))
			goto done;
		/* not for anything this process may start; libevent wants
		 * non-blocking listeners */
		fl = fcntl(fd, F_GETFL);
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || fl < 0 ||
		    fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
			snprintf(err, errlen, "LISTEN_FDS: descriptor %d: %s", fd, strerror(errno));
			goto done;
		}
		out[i].fd = fd;
		fd_name(names, (size_t)i, fd, out[i].name, sizeof(out[i].name));
	}
	rc = (int)n;
done:
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return rc;
}
