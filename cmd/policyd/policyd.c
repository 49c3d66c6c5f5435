/*
 * policyd.c - `spfcheck policyd`: a Postfix SMTP access policy service
 * (SMTPD_POLICY_README) that checks SPF, a drop-in for pypolicyd-spf.
 *
 * DESCRIPTION
 *	Two ways to run (SPECS C.5):
 *	  spawn   `spfcheck policyd` talks to one Postfix smtpd on stdin and
 *	          stdout (master.cf spawn(8)); it exits when the client
 *	          closes the connection.  Nothing is ever written to stderr
 *	          then, because spawn(8) connects stderr to the same socket
 *	          (C.8): logs go to syslog or --log FILE, and a stderr that is
 *	          a socket or the same file as stdout is pointed at /dev/null.
 *	  socket  `spfcheck policyd --listen unix:PATH|inet:HOST:PORT` serves
 *	          any number of persistent connections on the one libevent
 *	          loop, with one resolver and so one DNS cache for all.  The
 *	          sockets may also come from systemd (spfcheck-policyd.socket,
 *	          listen_fds.c): then no --listen is needed.
 *
 *	Each connection reads one request at a time (policy_proto.c),
 *	evaluates it without blocking and writes "action=...\n\n" before it
 *	looks at the next request, so replies are always in order.  A
 *	malformed request is logged and the connection closed without a
 *	reply (C.1).  Per connection, the verdict of the current `instance`
 *	(one message) is kept: the first request is evaluated and gets the
 *	header; later recipients get DUNNO (or the same reject/defer), C.4.
 *
 *	Per request: protocol_state other than MAIL, RCPT or DATA, or an
 *	authenticated client (sasl_username), gets DUNNO; skip_addresses,
 *	Whitelist, Domain_Whitelist and HELO_Whitelist bypass the check
 *	with an X-Comment header; then policy_decide() drives the HELO and
 *	MAIL FROM evaluations (policy_map.c).  Each identity gets
 *	Lookup_Time seconds, the whole request Request_Time seconds; when
 *	that runs out the identity being checked is temperror and the
 *	mapping decides as usual (DEFER_IF_PERMIT with TempError_Defer).
 *
 *	SIGHUP re-reads the config file (a bad one is logged and the old one
 *	kept; requests in flight finish with the config they started with)
 *	and reopens the log file.  SIGTERM/SIGINT stop accepting, answer
 *	the requests in flight, then exit 0.
 *
 * DIAGNOSTICS
 *	Startup errors (options, config file, sockets, the user) are logged
 *	and written to stderr when that is safe; exit 64 (usage, config) or
 *	70.  One log line per decision (client, identities, results, action,
 *	time) at debugLevel >= 1; protocol errors as warnings.
 */
#include "cmd.h"
#include "listen_fds.h"
#include "policy.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define MAX_LISTEN 8
#define DEFAULT_MAX_CONNS 1000
#define BUDGET_LOG_INTERVAL 60   /* seconds between memory budget reports */
#define READ_CHUNK 16384
/* Per connection, the bytes read and not yet parsed (the next request
 * while one is being answered, a pipeline) and the replies written and
 * not yet read by the client: past either bound the connection is not
 * read from until it falls below (flow control; nothing is dropped). */
#define MAX_PENDING_INPUT POLICY_MAX_REQUEST
#define MAX_PENDING_OUTPUT 65536
#define DEFAULT_RECEIVE_TIMEOUT 10   /* seconds from a request's first byte to its end */
#define DEFAULT_SEND_TIMEOUT 100     /* seconds replies may stay unread past the bound */
#define FD_RESERVE 32                /* descriptors not for connections (DNS, log, ...) */
#define EVICT_MIN_AGE_MS 1000       /* a connection idle for less is not evicted */
#define SLOT_LOG_INTERVAL 60         /* seconds between eviction / accept reports */
#define LOG_QUEUE_MAX (1024 * 1024)  /* bytes of log lines waiting for the log */
#define LOG_LINE_MAX 8192
#define REPLY_MAX 16384              /* bytes of one action (a header field is at most 8192) */

static const char policyd_usage[] =
	"usage: spfcheck policyd [options]\n"
	"\n"
	"Postfix SMTP access policy service checking SPF (RFC 7208), a drop-in\n"
	"for pypolicyd-spf.  Without --listen it serves one connection on\n"
	"stdin/stdout (master.cf spawn); with --listen, or sockets passed by\n"
	"systemd (LISTEN_FDS, a .socket unit), it serves many at once.\n"
	"\n"
	"options:\n"
	"  --config FILE           pypolicyd-spf style configuration (see\n"
	"                          doc/policyd.md); SIGHUP re-reads it\n"
	"  --listen unix:PATH | inet:HOST:PORT\n"
	"                          serve on this socket (repeatable)\n"
	"  --socket-mode MODE      permissions of a unix socket (octal, default 0666)\n"
	"  --user USER             when started as root, switch to USER after\n"
	"                          opening the sockets\n"
	"  --log syslog|stderr|FILE  where to log (default: syslog for stdin/stdout,\n"
	"                          stderr with --listen; never stderr without it)\n"
	"  --log-format full|compact  a decision's log line: every field in full\n"
	"                          (default), or one short line (action code only)\n"
	"  --max-connections N     connections served at once (default 1000)\n"
	"  --idle-timeout S        close a connection idle for S seconds (default 600)\n"
	"  --receive-timeout S     close a connection that has not sent a whole\n"
	"                          request S seconds after its first byte (default 10)\n"
	"  --send-timeout S        close a connection that leaves over 64 KiB of\n"
	"                          replies unread for S seconds (default 100)\n"
	CMD_MEMORY_BUDGET_HELP
	COMMON_HELP_ZONE COMMON_HELP_RECORD COMMON_HELP_DNS COMMON_HELP_EXP
	"  --no-prefetch           do not start lookups before the terms that need\n"
	"                          them are evaluated (results are the same)\n"
	"  (Lookup_Time and Void_Limit in the configuration file set the time and\n"
	"  void lookup limits)\n"
	"  -h, --help              this text\n"
	"\n"
	"exit status: 0 after the client closed (stdin/stdout) or SIGTERM,\n"
	"64 bad usage or configuration, 70 internal error.\n";

enum log_target { LOG_TO_SYSLOG, LOG_TO_STDERR, LOG_TO_FILE };

struct conn;

struct daemon {
	pid_t pid;                  /* for log lines (getpid() is a system call) */
	time_t log_prefix_at;       /* log_prefix: the second it was made for */
	char log_prefix[80];
	size_t log_prefix_len;
	struct event_base *base;
	spf_resolver_t *res;
	policy_config_t *cfg;
	const char *config_path;
	struct common_opts co;
	bool spawn;
	bool stopping;
	bool stderr_ok;          /* startup errors may go to stderr */
	enum log_target log_to;
	const char *log_path;
	int log_fd;              /* file, stderr or syslog socket; -1: none yet */
	bool log_is_socket;      /* written with send(MSG_DONTWAIT) */
	bool log_compact;        /* --log-format compact */
	struct evbuffer *log_queue;   /* lines waiting for log_fd (not syslog) */
	/* the action of the request being answered, made here and kept from
	 * request to request (no allocation per request): answer() is done
	 * with it before it reads the next request */
	spf_buf_t reply;
	struct event *log_wev;
	size_t log_queued_lines;
	unsigned long log_dropped, log_dropped_said;
	bool log_created;        /* we created log_path (so we may chown it) */
	struct evconnlistener *listeners[MAX_LISTEN];
	char *unix_paths[MAX_LISTEN];
	dev_t unix_dev[MAX_LISTEN];  /* the socket file we created, so that */
	ino_t unix_ino[MAX_LISTEN];  /* we never remove another's */
	size_t nlisteners;
	bool listening;
	struct conn *conns;
	unsigned nconns, max_conns;
	unsigned idle_timeout, receive_timeout, send_timeout;
	/* slots: connections evicted to make room, accept errors (EMFILE);
	 * counted, logged at most once per SLOT_LOG_INTERVAL */
	unsigned long nevicted, evicted_logged, naccept_err, accept_err_logged;
	time_t slots_logged_at;
	bool accept_backoff;        /* accept paused after EMFILE/ENFILE */
	struct event *backoff_timer;
	unsigned long nrequests, nconnections;
	/* the memory budget of the evaluations in flight, and what of it
	 * was logged last (at most once per BUDGET_LOG_INTERVAL) */
	spf_budget_t *budget;
	size_t budget_bytes;
	time_t budget_logged_at;
	unsigned long budget_waited, budget_dropped;
	struct event *sig_hup, *sig_term, *sig_int, *stop_timer;
	char hostname[256];
	int exit_code;
};

/* One request being answered. */
struct preq {
	struct conn *c;
	policy_config_t *cfg;
	policy_request_t r;
	spf_addr_t ip;
	char ipbuf[64];
	char *owned_sender, *owned_helo;
	/* the sender and HELO name read at once (cmd_identities()), when
	 * neither is refused: the jobs take them as read */
	spf_identity_parts_t parts;
	spf_arena_t *id_arena;
	bool read_once;
	policy_facts_t facts;
	spf_request_t sreq[2];      /* [SPF_IDENTITY_MFROM], [SPF_IDENTITY_HELO] */
	spf_job_t *job[2];          /* the identity being evaluated */
	/* a finished identity: its summary, the job gone (issue 22); the
	 * job itself only when memory for the summary ran out */
	spf_job_summary_t *sum[2];
	const char *why_none[2];    /* an identity that could not be checked */
	char why_buf[2][300];
	int running;                /* identity being evaluated, or -1 */
	double t0;
	spf_dns_query_t *deadline;
	bool timed_out;
	/* whitelists */
	size_t dw_next;             /* next Domain_Whitelist entry */
	spf_job_t *wl_job;
	spf_request_t wl_req;
	char *wl_sender;
	spf_dns_query_t *wl_query;
	const char *bypass;         /* why SPF is not checked */
	bool wl_done;
};

struct conn {
	struct daemon *d;
	int rfd, wfd;
	struct event *rev, *wev;
	/* a request must arrive whole within receive_timeout of its first
	 * byte; replies over MAX_PENDING_OUTPUT (or any, once closing) must
	 * be read within send_timeout */
	struct event *recv_timer, *send_timer;
	enum { READ_OFF, READ_ON, READ_IDLE } read_mode;  /* what rev is added as */
	bool recv_armed, send_armed;
	double since;               /* when it last became idle (eviction order) */
	struct evbuffer *in, *out;
	policy_parser_t parser;
	struct preq *cur;
	struct preq *spare;         /* kept for the next request (preq_recycle) */
	bool eof, closing, dead;
	unsigned busy;              /* conn_free is deferred while > 0 */
	bool in_process;            /* inside process_input() */
	char peer[80];
	unsigned long nreq;
	/* the current instance (C.4) */
	char *instance;
	char *repeat;               /* a reject/defer to repeat, or NULL */
	char *pending[2];           /* headers still to prepend */
	size_t npending;
	struct conn *prev, *next;
};

static struct daemon *the_daemon;   /* for the log function */

/* ---- logging ----
 *
 * A log write never stalls the answers.  The log descriptor is
 * non-blocking: a pipe or FIFO (stderr to a log collector, --log FIFO)
 * whose reader stalls, or syslog's socket when syslogd is slow, fails
 * with EAGAIN instead of blocking the one loop.  A file or stderr line
 * that does not go out at once waits in a queue of at most
 * LOG_QUEUE_MAX bytes, written when the descriptor is writable; past
 * that, and for syslog (one datagram per line, no queue), the line is
 * dropped and counted, and the count is logged once lines go out
 * again.  A regular file on a slow disk is written by the kernel's page
 * cache and cannot be made non-blocking; a full disk (ENOSPC) drops and
 * counts as above.
 */

static void log_drop_notice(struct daemon *d);

static ssize_t log_send(struct daemon *d, const void *p, size_t n)
{
	ssize_t w;

	do {
		w = d->log_is_socket ? send(d->log_fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL) :
			write(d->log_fd, p, n);
	} while (w < 0 && errno == EINTR);
	return w;
}

/* Write the queue without blocking; true when it is empty. */
static bool log_flush(struct daemon *d)
{
	while (evbuffer_get_length(d->log_queue) > 0) {
		size_t n = evbuffer_get_contiguous_space(d->log_queue);
		ssize_t w = log_send(d, evbuffer_pullup(d->log_queue, (ssize_t)n), n);

		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		if (w <= 0) {
			/* ENOSPC, EPIPE, ...: what waits is lost */
			d->log_dropped += d->log_queued_lines;
			evbuffer_drain(d->log_queue, evbuffer_get_length(d->log_queue));
			break;
		}
		evbuffer_drain(d->log_queue, (size_t)w);
	}
	d->log_queued_lines = 0;
	return true;
}

static void on_log_writable(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	if (log_flush(d)) {
		event_del(d->log_wev);
		log_drop_notice(d);
	}
}

/* One whole line (with its '\n') to the file or stderr: at once when
 * nothing waits, else queued, else dropped.  arm: the writable event
 * may be added (not from inside libevent's log callback). */
static void log_put(struct daemon *d, const char *line, size_t len, bool arm)
{
	if (evbuffer_get_length(d->log_queue) == 0) {
		ssize_t w = log_send(d, line, len);

		if (w >= 0 && (size_t)w == len)
			return;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			d->log_dropped++;
			return;
		}
		if (w > 0) {   /* the rest of a line started: it must follow */
			line += w;
			len -= (size_t)w;
		} else if (len > LOG_QUEUE_MAX) {
			d->log_dropped++;
			return;
		}
	} else if (evbuffer_get_length(d->log_queue) + len > LOG_QUEUE_MAX) {
		d->log_dropped++;
		return;
	}
	evbuffer_add(d->log_queue, line, len);
	d->log_queued_lines++;
	if (arm && d->log_wev != NULL)
		event_add(d->log_wev, NULL);
}

/* syslog(3) over a non-blocking socket: <PRI>TIMESTAMP TAG[PID]: MSG,
 * one datagram per line, dropped (counted) when syslogd cannot take it */
static void syslog_put(struct daemon *d, int prio, const char *msg)
{
	char ts[32], line[LOG_LINE_MAX + 64];
	time_t now = time(NULL);
	struct tm tm;
	int n;
	bool ok;

	if (d->log_fd < 0) {
		struct sockaddr_un un = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
		int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd >= 0 && connect(fd, (struct sockaddr *)&un, sizeof(un)) != 0) {
			close(fd);
			fd = -1;
		}
		if (fd < 0) {
			d->log_dropped++;
			return;
		}
		d->log_fd = fd;
		d->log_is_socket = true;
	}
	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%b %e %H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "<%d>%s spfcheck-policyd[%ld]: %s",
		LOG_MAIL | prio, ts, (long)d->pid, msg);
	ok = n > 0 && (size_t)n < sizeof(line);
	if (!ok || log_send(d, line, (size_t)n) < 0) {
		d->log_dropped++;
		if (ok && errno != EAGAIN && errno != EWOULDBLOCK) {
			/* syslogd restarted: connect again next time */
			close(d->log_fd);
			d->log_fd = -1;
		}
	}
}

/* A log line is built by copying, not by printf: this runs once per
 * request (issue 15: policyd's CPU beyond the evaluation). */
struct line {
	char *p, *end;   /* end: the last byte, kept for the NUL */
};

static void lput(struct line *l, const char *s, size_t n)
{
	if (n > (size_t)(l->end - l->p))
		n = (size_t)(l->end - l->p);
	memcpy(l->p, s, n);
	l->p += n;
}

static void lputs(struct line *l, const char *s)
{
	lput(l, s, strlen(s));
}

/* s as policy_printable(s, max) gives it: bytes outside printable ASCII
 * as '?', at most max of them, then "..." when some remain */
static void lsafe(struct line *l, const char *s, size_t max)
{
	l->p += policy_printable_put(l->p, (size_t)(l->end - l->p), s, max);
}

/* " ms=%.1f" of ms, without printf */
static void lms(struct line *l, double ms)
{
	char num[32];

	lput(l, " ms=", 4);
	lput(l, num, policy_tenths(num, ms));
}

/* "2026-12-05T08:51:14 spfcheck-policyd[PID]: ", made once a second */
static const char *log_prefix(struct daemon *d, size_t *len)
{
	time_t now = time(NULL);

	if (now != d->log_prefix_at || d->log_prefix_len == 0) {
		struct tm tm;
		char ts[32];
		int n;

		localtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(d->log_prefix, sizeof(d->log_prefix),
			"%s spfcheck-policyd[%ld]: ", ts, (long)d->pid);
		d->log_prefix_len = n > 0 && (size_t)n < sizeof(d->log_prefix) ? (size_t)n : 0;
		d->log_prefix_at = now;
	}
	*len = d->log_prefix_len;
	return d->log_prefix;
}

static void emit(struct daemon *d, int prio, const char *msg, bool arm)
{
	char line[LOG_LINE_MAX + 96];
	struct line l = { line, line + sizeof(line) - 1 };
	size_t plen, mlen = strlen(msg);
	const char *pre;

	if (d->log_to == LOG_TO_SYSLOG) {
		syslog_put(d, prio, msg);
		return;
	}
	if (d->log_fd < 0 || d->log_queue == NULL)
		return;
	if (mlen > LOG_LINE_MAX) {
		d->log_dropped++;
		return;
	}
	pre = log_prefix(d, &plen);
	lput(&l, pre, plen);
	lputs(&l, prio <= LOG_ERR ? "error: " : prio == LOG_WARNING ? "warning: " : "");
	lput(&l, msg, mlen);
	lput(&l, "\n", 1);
	log_put(d, line, (size_t)(l.p - line), arm);
}

/* Lines were dropped and the log takes lines again: say how many. */
static void log_drop_notice(struct daemon *d)
{
	char msg[160];
	unsigned long n = d->log_dropped - d->log_dropped_said;

	if (n == 0)
		return;
	d->log_dropped_said = d->log_dropped;
	snprintf(msg, sizeof(msg), "%lu log lines dropped: the log did not take them "
		"(a stalled reader, a slow syslogd or a full disk)", n);
	emit(d, LOG_WARNING, msg, true);
}

static void vlog_line(int prio, bool arm, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void vlog_line(int prio, bool arm, const char *fmt, va_list ap)
{
	struct daemon *d = the_daemon;
	char msg[LOG_LINE_MAX + 1];
	int n;

	if (d == NULL)
		return;
	if (arm && d->log_dropped != d->log_dropped_said &&
	    (d->log_queue == NULL || evbuffer_get_length(d->log_queue) == 0))
		log_drop_notice(d);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	emit(d, prio, n >= 0 && (size_t)n < sizeof(msg) ? msg :
		"a log line over 8192 bytes was not written", arm);
}

/* Log at prio, filtered by debugLevel: errors and warnings unless -1,
 * LOG_INFO at 1 and up, LOG_DEBUG at 2 and up. */
static bool plog_wanted(int prio)
{
	struct daemon *d = the_daemon;
	int level = d && d->cfg ? d->cfg->debug_level : 1;

	return !(level < 0 || (prio == LOG_INFO && level < 1) || (prio == LOG_DEBUG && level < 2));
}

/* plog() from inside libevent's log callback: the event is not armed */
static void vlog_wrap(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void vlog_wrap(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_line(prio, false, fmt, ap);
	va_end(ap);
}

static void plog(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void plog(int prio, const char *fmt, ...)
{
	va_list ap;

	if (!plog_wanted(prio))
		return;
	va_start(ap, fmt);
	vlog_line(prio, true, fmt, ap);
	va_end(ap);
}

/* plog() of a line that is already made */
static void plog_text(int prio, const char *msg)
{
	struct daemon *d = the_daemon;

	if (d == NULL || !plog_wanted(prio))
		return;
	if (d->log_dropped != d->log_dropped_said &&
	    (d->log_queue == NULL || evbuffer_get_length(d->log_queue) == 0))
		log_drop_notice(d);
	emit(d, prio, msg, true);
}

/* A startup error: logged, and on stderr when stderr is safe. */
static void startup_error(struct daemon *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void startup_error(struct daemon *d, const char *fmt, ...)
{
	va_list ap;
	char msg[2048];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->log_to != LOG_TO_STDERR || !d->stderr_ok) {
		struct daemon *saved = the_daemon;

		the_daemon = d;
		plog(LOG_ERR, "%s", msg);
		the_daemon = saved;
	}
	if (d->stderr_ok)
		cmd_error("%s", msg);
}

/* The writable event of the log descriptor, once the loop exists (and
 * again when SIGHUP reopens the file). */
static void log_attach(struct daemon *d)
{
	if (d->log_wev != NULL) {
		event_free(d->log_wev);
		d->log_wev = NULL;
	}
	if (d->base != NULL && d->log_fd >= 0 && d->log_to != LOG_TO_SYSLOG) {
		d->log_wev = event_new(d->base, d->log_fd, EV_WRITE | EV_PERSIST,
			on_log_writable, d);
		if (d->log_wev != NULL && evbuffer_get_length(d->log_queue) > 0)
			event_add(d->log_wev, NULL);
	}
}

/* A descriptor of stderr that does not block: a pipe, FIFO or terminal
 * is opened again with O_NONBLOCK (its own open file description: the
 * flag must not reach the processes that share stderr); a socket is
 * written with MSG_DONTWAIT; a regular file as it is. */
static int stderr_fd(struct daemon *d)
{
	struct stat sb;
	int fd;

	d->log_is_socket = false;
	if (fstat(STDERR_FILENO, &sb) != 0 || S_ISREG(sb.st_mode))
		return STDERR_FILENO;
	if (S_ISSOCK(sb.st_mode)) {
		d->log_is_socket = true;
		return STDERR_FILENO;
	}
	fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	return fd >= 0 ? fd : STDERR_FILENO;
}

static bool open_log(struct daemon *d)
{
	int fd;

	if (d->log_queue == NULL && (d->log_queue = evbuffer_new()) == NULL)
		return false;
	if (d->log_to == LOG_TO_SYSLOG)
		return true;   /* connected at the first line (syslog_put) */
	if (d->log_to == LOG_TO_STDERR) {
		if (d->log_fd < 0)
			d->log_fd = stderr_fd(d);
		return true;
	}
	fd = open(d->log_path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NONBLOCK,
		0666);
	if (fd >= 0 && d->log_fd < 0)
		d->log_created = true;
	if (fd < 0 && errno == EEXIST)
		fd = open(d->log_path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	if (d->log_fd >= 0)
		close(d->log_fd);
	d->log_fd = fd;
	d->log_is_socket = false;
	log_attach(d);
	return true;
}

/* At exit: what the log takes now; the rest is lost (a stalled reader
 * must not keep the service from exiting). */
static void close_log(struct daemon *d)
{
	if (d->log_queue != NULL && d->log_fd >= 0)
		log_flush(d);
	if (d->log_wev != NULL)
		event_free(d->log_wev);
	d->log_wev = NULL;
	if (d->log_queue != NULL)
		evbuffer_free(d->log_queue);
	d->log_queue = NULL;
	if (d->log_fd >= 0 && d->log_fd != STDERR_FILENO)
		close(d->log_fd);
	d->log_fd = -1;
}

/* libevent's own messages go to our log, never straight to stderr
 * (which is the Postfix socket in spawn mode) */
static void on_libevent_log(int severity, const char *msg)
{
	int prio = severity >= EVENT_LOG_ERR ? LOG_ERR : severity == EVENT_LOG_WARN ?
		LOG_WARNING : severity == EVENT_LOG_MSG ? LOG_INFO : LOG_DEBUG;

	/* no libevent call from inside its log callback: a line that
	 * must wait is queued, and the next line arms the event */
	if (plog_wanted(prio))
		vlog_wrap(prio, "libevent: %s", msg);
}

static void config_warn(void *arg, const char *msg)
{
	(void)arg;
	plog(LOG_WARNING, "%s", msg);
}

/* ---- connections ---- */

static void conn_free(struct conn *c);
static void process_input(struct conn *c);
static void preq_free(struct preq *q);
static void maybe_stop(struct daemon *d);

static void clear_instance(struct conn *c)
{
	spf_free(c->instance);
	spf_free(c->repeat);
	for (size_t i = 0; i < c->npending; i++)
		spf_free(c->pending[i]);
	c->instance = NULL;
	c->repeat = NULL;
	c->npending = 0;
}

static void conn_update(struct conn *c);
static void conn_release(struct conn *c);
static void listeners_update(struct daemon *d);

static void try_write(struct conn *c)
{
	while (evbuffer_get_length(c->out) > 0) {
		int n = evbuffer_write(c->out, c->wfd);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			plog(LOG_WARNING, "%s: write error: %s; closing", c->peer, strerror(errno));
			conn_free(c);
			return;
		}
	}
	if (evbuffer_get_length(c->out) > 0) {
		event_add(c->wev, NULL);
	} else {
		event_del(c->wev);
		if (c->closing && c->cur == NULL) {
			conn_free(c);
			return;
		}
	}
	conn_update(c);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	c->busy++;
	try_write(c);
	/* replies read: go on with requests held back by the output bound */
	if (!c->dead && !c->in_process && c->cur == NULL && evbuffer_get_length(c->in) > 0)
		process_input(c);
	conn_release(c);
}

/* Queue "action=ACTION\n\n" and write. */
static void send_action(struct conn *c, const char *action)
{
	evbuffer_add(c->out, "action=", 7);
	evbuffer_add(c->out, action, strlen(action));
	evbuffer_add(c->out, "\n\n", 2);
}

/* Receiving a request: some of it read, not all of it. */
static bool conn_partial(const struct conn *c)
{
	return c->cur == NULL && !c->closing &&
		(c->parser.req.nattrs > 0 || evbuffer_get_length(c->in) > 0);
}

/*
 * Make what c waits for match its state (the one place that does): read
 * while neither buffer is over its bound, with the idle timeout between
 * requests; the receive deadline while a request is partial; the send
 * deadline while the replies are over their bound or the connection is
 * closing with replies unsent; and the listeners, which pause while
 * every slot is taken and none can be evicted.
 */
static void conn_update(struct conn *c)
{
	struct daemon *d = c->d;
	size_t in = evbuffer_get_length(c->in), out = evbuffer_get_length(c->out);
	bool partial = conn_partial(c);
	bool send_wait = out >= MAX_PENDING_OUTPUT || (c->closing && out > 0);
	int mode = READ_OFF;

	if (!c->eof && !c->closing && !d->stopping && in < MAX_PENDING_INPUT &&
	    out < MAX_PENDING_OUTPUT)
		mode = c->cur == NULL && !partial && d->idle_timeout ? READ_IDLE : READ_ON;
	if (mode != (int)c->read_mode) {
		struct timeval tv = { .tv_sec = d->idle_timeout };

		if (mode == READ_OFF)
			event_del(c->rev);
		else
			event_add(c->rev, mode == READ_IDLE ? &tv : NULL);
		c->read_mode = mode;
	}
	if (partial != c->recv_armed) {
		struct timeval tv = { .tv_sec = d->receive_timeout };

		if (partial)
			evtimer_add(c->recv_timer, &tv);
		else
			evtimer_del(c->recv_timer);
		c->recv_armed = partial;
	}
	if (send_wait != c->send_armed) {
		struct timeval tv = { .tv_sec = d->send_timeout };

		if (send_wait)
			evtimer_add(c->send_timer, &tv);
		else
			evtimer_del(c->send_timer);
		c->send_armed = send_wait;
	}
	if (!d->listening && !d->spawn)
		listeners_update(d);
}

static void on_recv_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	c->recv_armed = false;
	plog(LOG_WARNING, "%s: request not received whole within %u s (%u lines, %zu bytes "
		"unparsed); closing without a reply", c->peer, c->d->receive_timeout,
		c->parser.req.nattrs, evbuffer_get_length(c->in));
	c->closing = true;
	evbuffer_drain(c->in, evbuffer_get_length(c->in));
	try_write(c);
}

static void on_send_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	c->send_armed = false;
	plog(LOG_WARNING, "%s: %zu bytes of replies not read by the client for %u s; closing",
		c->peer, evbuffer_get_length(c->out), c->d->send_timeout);
	conn_free(c);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	size_t room = MAX_PENDING_INPUT - evbuffer_get_length(c->in);
	int n;

	(void)fd;
	if (what & EV_TIMEOUT) {
		if (c->cur == NULL) {
			plog(LOG_INFO, "%s: idle for %u s; closing", c->peer, c->d->idle_timeout);
			c->closing = true;
			try_write(c);
		}
		return;
	}
	n = evbuffer_read(c->in, c->rfd, room < READ_CHUNK ? (int)room : READ_CHUNK);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		plog(LOG_WARNING, "%s: read error: %s; closing", c->peer, strerror(errno));
		conn_free(c);
		return;
	}
	if (n == 0)
		c->eof = true;
	process_input(c);
}

static struct conn *conn_create(struct daemon *d, int rfd, int wfd, const char *peer)
{
	struct conn *c = spf_calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->d = d;
	c->rfd = rfd;
	c->wfd = wfd;
	c->since = cmd_now_ms();
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	policy_parser_init(&c->parser);
	evutil_make_socket_nonblocking(rfd);
	if (wfd != rfd)
		evutil_make_socket_nonblocking(wfd);
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	c->rev = event_new(d->base, rfd, EV_READ | EV_PERSIST, on_read, c);
	c->wev = event_new(d->base, wfd, EV_WRITE | EV_PERSIST, on_write, c);
	c->recv_timer = evtimer_new(d->base, on_recv_timeout, c);
	c->send_timer = evtimer_new(d->base, on_send_timeout, c);
	if (c->in == NULL || c->out == NULL || c->rev == NULL || c->wev == NULL ||
	    c->recv_timer == NULL || c->send_timer == NULL) {
		if (c->rev) event_free(c->rev);
		if (c->wev) event_free(c->wev);
		if (c->recv_timer) event_free(c->recv_timer);
		if (c->send_timer) event_free(c->send_timer);
		if (c->in) evbuffer_free(c->in);
		if (c->out) evbuffer_free(c->out);
		spf_free(c);
		return NULL;
	}
	c->next = d->conns;
	if (d->conns)
		d->conns->prev = c;
	d->conns = c;
	d->nconns++;
	d->nconnections++;
	conn_update(c);
	plog(LOG_DEBUG, "%s: connected", c->peer);
	return c;
}

/* Undo a busy++ and free c if it died meanwhile. */
static void conn_release(struct conn *c)
{
	if (--c->busy == 0 && c->dead)
		conn_free(c);
}

/*
 * Read and drop what the peer sent that was never read (at most
 * DISCARD_MAX bytes, what is there now): a socket closed with unread
 * input sends a reset instead of an orderly close, and a client may then
 * lose the replies it has not read yet (the request answered before an
 * over-long line, the reply to the last request of a closing client).
 */
#define DISCARD_MAX (1024 * 1024)
static void discard_unread(int fd)
{
	char buf[4096];
	size_t total = 0;
	ssize_t n;

	while (total < DISCARD_MAX && (n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
		total += (size_t)n;
}

static void conn_free(struct conn *c)
{
	struct daemon *d = c->d;

	if (c->busy > 0) {
		c->dead = true;
		return;
	}
	if (c->cur != NULL)
		preq_free(c->cur);
	c->cur = NULL;
	preq_free(c->spare);
	c->spare = NULL;
	event_free(c->rev);
	event_free(c->wev);
	event_free(c->recv_timer);
	event_free(c->send_timer);
	evbuffer_free(c->in);
	evbuffer_free(c->out);
	policy_parser_finish(&c->parser);
	clear_instance(c);
	if (c->rfd != c->wfd) {
		close(c->rfd);
		close(c->wfd);
	} else {
		discard_unread(c->rfd);
		evutil_closesocket(c->rfd);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		d->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	d->nconns--;
	plog(LOG_DEBUG, "%s: closed after %lu requests", c->peer, c->nreq);
	spf_free(c);
	if (d->spawn)
		event_base_loopbreak(d->base);
	else if (!d->listening)
		listeners_update(d);
	maybe_stop(d);
}
/* ---- one request ---- */

static void step(struct preq *q);

/* Release what q holds but its request's store (kept for reuse). */
static void preq_release(struct preq *q)
{
	spf_dns_query_cancel(q->deadline);
	spf_dns_query_cancel(q->wl_query);
	spf_job_destroy(q->wl_job);
	spf_job_destroy(q->job[0]);
	spf_job_destroy(q->job[1]);
	spf_job_summary_destroy(q->sum[0]);
	spf_job_summary_destroy(q->sum[1]);
	spf_free(q->owned_sender);
	spf_free(q->owned_helo);
	spf_arena_destroy(q->id_arena);
	spf_free(q->wl_sender);
	policy_config_unref(q->cfg);
}

static void preq_free(struct preq *q)
{
	if (q == NULL)
		return;
	preq_release(q);
	policy_request_clear(&q->r);
	spf_free(q);
}

/* q is answered: keep it, emptied (all zero but its request's store),
 * for its connection's next request (no allocation per request), or
 * free it when one is kept already. */
static void preq_recycle(struct preq *q)
{
	struct conn *c = q->c;
	policy_request_t r;

	if (c->spare != NULL) {
		preq_free(q);
		return;
	}
	preq_release(q);
	r = q->r;
	memset(q, 0, sizeof(*q));
	q->r = r;
	policy_request_reset(&q->r);
	c->spare = q;
}

/* An empty request for c: the one kept by preq_recycle(), or a new
 * one; NULL when memory runs out. */
static struct preq *preq_get(struct conn *c)
{
	struct preq *q = c->spare;

	if (q == NULL)
		return spf_calloc(1, sizeof(*q));
	c->spare = NULL;
	return q;
}

static const char *receiver_of(const struct preq *q)
{
	const policy_config_t *cfg = q->cfg;

	if (cfg->hide_receiver)
		return NULL;
	if (cfg->receiver != NULL)
		return cfg->receiver;
	if (q->c->d->co.receiver != NULL)
		return q->c->d->co.receiver;
	return q->c->d->hostname;
}

/* Fill info for identity id (0 mfrom, 1 helo). */
static void ident_info(const struct preq *q, int id, spf_header_info_t *info)
{
	spf_job_summary_t view;
	const spf_job_summary_t *s = q->sum[id];

	if (s == NULL && q->job[id] != NULL && spf_job_done(q->job[id])) {
		spf_job_summary_view(q->job[id], &view);
		s = &view;
	}
	if (s != NULL) {
		spf_header_info_from_summary(info, s, &q->sreq[id]);
		if (q->facts.mfrom_id.checked && id == SPF_IDENTITY_MFROM)
			info->result = q->facts.mfrom_id.result;
		if (q->facts.helo_id.checked && id == SPF_IDENTITY_HELO)
			info->result = q->facts.helo_id.result;
		if ((info->result == SPF_RESULT_TEMPERROR) && info->problem == NULL)
			info->problem = id == SPF_IDENTITY_HELO ? q->facts.helo_id.problem :
				q->facts.mfrom_id.problem;
		return;
	}
	memset(info, 0, sizeof(*info));
	info->identity = (spf_identity_t)id;
	info->result = id == SPF_IDENTITY_HELO ? q->facts.helo_id.result :
		q->facts.mfrom_id.result;
	info->ip = q->ip;
	info->envelope_from = q->facts.sender;
	info->helo = *q->facts.helo ? q->facts.helo : NULL;
	info->problem = id == SPF_IDENTITY_HELO ? q->facts.helo_id.problem :
		q->facts.mfrom_id.problem;
}

/*
 * Write the action for decision d: "PREPEND " and the first header
 * field, on one line, into out (reset first); a second field (both
 * headers configured) goes into the connection's pending list.  false
 * when memory runs out or no field was made.
 */
static bool build_headers(struct preq *q, const policy_decision_t *d, spf_buf_t *out)
{
	struct conn *c = q->c;
	spf_header_opts_t opts = { 0 };
	spf_header_info_t info[2];
	const spf_header_info_t *order[2];
	size_t n = 0, start;
	bool ok = true;

	opts.receiver = receiver_of(q);
	opts.authserv_id = q->cfg->authserv_id ? q->cfg->authserv_id : q->c->d->hostname;
	spf_buf_reset(out);
	spf_buf_puts(out, "PREPEND ");
	start = out->len;
	if (q->cfg->header_type & POLICY_HDR_SPF) {
		ident_info(q, (int)d->header_of, &info[0]);
		ok = spf_header_received_spf_line(&info[0], &opts, out) == SPF_OK;
	}
	if (ok && (q->cfg->header_type & POLICY_HDR_AR)) {
		/* MAIL FROM first, then HELO (as cmd_headers) */
		if (q->facts.mfrom_id.checked) {
			ident_info(q, SPF_IDENTITY_MFROM, &info[n]);
			order[n] = &info[n];
			n++;
		}
		if (q->facts.helo_id.checked) {
			ident_info(q, SPF_IDENTITY_HELO, &info[n]);
			order[n] = &info[n];
			n++;
		}
		if (n > 0 && out->len > start) {
			/* the second field, kept for the next request of the
			 * instance (C.4) */
			spf_buf_t ar;

			spf_buf_init(&ar, out->max);
			ok = spf_header_auth_results_line(order, n, &opts, &ar) == SPF_OK;
			if (ok)
				c->pending[c->npending++] = ar.data;   /* handed over */
			else
				spf_buf_finish(&ar);
		} else if (n > 0) {
			ok = spf_header_auth_results_line(order, n, &opts, out) == SPF_OK;
		}
	}
	return ok && out->err == SPF_OK && out->len > start;
}

static const char *result_name(const policy_ident_t *id)
{
	return id->checked ? spf_result_str(id->result) : "-";
}

/* The compact log's word for an action: "PREPEND <field name>", or the
 * first word and an enhanced status code after it ("550 5.7.23",
 * "DEFER_IF_PERMIT 4.7.24", "DUNNO", a restriction class). */
static const char *action_code(const char *action, char *buf, size_t len)
{
	size_t n = strcspn(action, " ");

	if (strncmp(action, "PREPEND ", 8) == 0)
		n = 8 + strcspn(action + 8, ": ");
	else if (action[n] == ' ' && action[n + 1] >= '2' && action[n + 1] <= '5' &&
		 action[n + 2] == '.')
		n += 1 + strcspn(action + n + 1, " ");
	if (n > 60)
		n = 60;
	snprintf(buf, len, "%.*s", (int)n, action);
	return policy_printable(buf, buf, len, 60);
}

/* Answer q with action, log the decision and go on with the connection. */
static void answer(struct preq *q, const char *action, const char *note)
{
	struct conn *c = q->c;
	char cl[80], he[300], se[600], rc[600], qb[40], qid[48];
	double ms = cmd_now_ms() - q->t0;

	send_action(c, action);
	c->d->nrequests++;
	c->nreq++;
	if (q->cfg->queue_id && *policy_req_get(&q->r, POLICY_A_QUEUE_ID))
		snprintf(qid, sizeof(qid), "%s: ",
			policy_printable(policy_req_get(&q->r, POLICY_A_QUEUE_ID), qb, sizeof(qb), 30));
	else
		qid[0] = '\0';
	if (c->d->log_compact && plog_wanted(LOG_INFO)) {
		char act[80];

		plog(LOG_INFO, "%s%s %s <%s> <%s> helo=%s mfrom=%s %s %.0fms", qid,
			policy_printable(policy_req_get(&q->r, POLICY_A_CLIENT_ADDRESS), cl,
				sizeof(cl), 64),
			policy_printable(policy_req_get(&q->r, POLICY_A_HELO_NAME), he, sizeof(he), 64),
			policy_printable(policy_req_get(&q->r, POLICY_A_SENDER), se, sizeof(se), 128),
			policy_printable(policy_req_get(&q->r, POLICY_A_RECIPIENT), rc, sizeof(rc), 128),
			result_name(&q->facts.helo_id), result_name(&q->facts.mfrom_id),
			action_code(action, act, sizeof(act)), ms);
	} else if (plog_wanted(LOG_INFO)) {
		/* the same fields as policy_printable() gives them, copied
		 * into the line (no printf: this is every request's cost) */
		char msg[2400];
		struct line l = { msg, msg + sizeof(msg) - 1 };

		lputs(&l, qid);
		lputs(&l, "client=");
		lsafe(&l, policy_req_get(&q->r, POLICY_A_CLIENT_ADDRESS), 64);
		lputs(&l, " helo=");
		lsafe(&l, policy_req_get(&q->r, POLICY_A_HELO_NAME), 255);
		lputs(&l, " sender=<");
		lsafe(&l, policy_req_get(&q->r, POLICY_A_SENDER), 300);
		lputs(&l, "> recipient=<");
		lsafe(&l, policy_req_get(&q->r, POLICY_A_RECIPIENT), 300);
		lputs(&l, "> helo_result=");
		lputs(&l, result_name(&q->facts.helo_id));
		lputs(&l, " mfrom_result=");
		lputs(&l, result_name(&q->facts.mfrom_id));
		lputs(&l, " action=\"");
		lsafe(&l, action, 500);
		lputs(&l, "\"");
		if (note != NULL) {
			lputs(&l, " note=");
			lputs(&l, note);
		}
		lms(&l, ms);
		*l.p = '\0';
		plog_text(LOG_INFO, msg);
	}
	c->cur = NULL;
	c->since = cmd_now_ms();
	preq_recycle(q);
	c->busy++;
	try_write(c);
	if (!c->dead && !c->in_process)
		process_input(c);   /* the next request, if one is buffered */
	conn_release(c);
}

/*
 * Log what the memory budget did since the last report: evaluations that
 * had to wait, and those not evaluated because the request deadline came
 * first (answered temperror).  At most once per BUDGET_LOG_INTERVAL, at
 * the first such event after it, never once per request.
 */
static void budget_report(struct daemon *d)
{
	spf_budget_stats_t st;
	time_t now = time(NULL);

	spf_budget_stats(d->budget, &st);
	if (st.waited == d->budget_waited && st.dropped == d->budget_dropped)
		return;
	if (d->budget_logged_at != 0 && now - d->budget_logged_at < BUDGET_LOG_INTERVAL)
		return;
	plog(LOG_WARNING, "memory budget of %zu MiB for the evaluations in flight: "
		"%lu evaluations waited and %lu were not evaluated (request deadline: "
		"temperror) %s; %zu waiting, %zu in flight now",
		st.limit / (1024 * 1024), st.waited - d->budget_waited,
		st.dropped - d->budget_dropped, d->budget_logged_at != 0 ?
		"since the last report" : "so far", st.waiting, st.in_flight);
	d->budget_waited = st.waited;
	d->budget_dropped = st.dropped;
	d->budget_logged_at = now;
}

/* The decision is made: remember it for the instance and answer. */
static void conclude(struct preq *q, policy_decision_t *d)
{
	struct conn *c = q->c;
	spf_buf_t *reply = &c->d->reply;
	const char *note = d->test_only_dropped ? "TestOnly=0: reject/defer not applied" : NULL;

	switch (d->verdict) {
	case POLICY_PREPEND:
		if (!build_headers(q, d, reply)) {
			answer(q, "DUNNO", "out of memory building the header");
			break;
		}
		answer(q, spf_buf_cstr(reply), note);
		break;
	case POLICY_REJECT:
	case POLICY_DEFER:
		spf_free(c->repeat);
		c->repeat = spf_strdup(d->action);
		answer(q, d->action, note);
		break;
	case POLICY_RESTRICTION:
		answer(q, d->action, note);
		break;
	case POLICY_DUNNO:
		answer(q, "DUNNO", note);
		break;
	}
	policy_decision_finish(d);
}

/*
 * An identity is done: keep its summary and destroy the job before the
 * next identity starts (issue 22: a finished job holds its records, up
 * to its memory budget, outside the budget of the evaluations in flight;
 * a HELO job kept beside the MAIL FROM job doubled what a request
 * held).  The header fields and the log need only the summary.
 */
static void on_job_done(spf_job_t *job, void *arg)
{
	struct preq *q = arg;
	int which = q->running;
	policy_ident_t *id = which == SPF_IDENTITY_HELO ? &q->facts.helo_id :
		&q->facts.mfrom_id;
	spf_job_summary_t view;
	const spf_job_summary_t *s;

	q->sum[which] = spf_job_summarize(job);
	if (q->sum[which] != NULL) {
		spf_job_destroy(job);
		q->job[which] = NULL;
		s = q->sum[which];
	} else {
		/* out of memory: keep the job, the answer is the same */
		spf_job_summary_view(job, &view);
		s = &view;
	}
	id->checked = true;
	id->result = s->result;
	id->explanation = s->explanation;
	id->problem = s->problem;
	q->running = -1;
	step(q);
}

/* Start evaluating identity which; false when it cannot start (then
 * the identity is marked none/temperror and the caller steps on). */
static bool start_ident(struct preq *q, spf_identity_t which)
{
	spf_request_t *r = &q->sreq[which];
	policy_ident_t *id = which == SPF_IDENTITY_HELO ? &q->facts.helo_id :
		&q->facts.mfrom_id;
	double left = (double)q->cfg->request_time * 1000.0 - (cmd_now_ms() - q->t0);
	spf_status_t st = SPF_OK;

	if (q->why_none[which] != NULL) {
		/* RFC 7208 §4.3: a malformed domain is none */
		id->checked = true;
		id->result = SPF_RESULT_NONE;
		id->problem = q->why_none[which];
		return false;
	}
	if (q->timed_out || left < 1) {
		id->checked = true;
		id->result = SPF_RESULT_TEMPERROR;
		id->problem = "not checked: the request deadline had passed";
		return false;
	}
	memset(r, 0, sizeof(*r));
	cmd_request_opts(&q->c->d->co, r);
	r->ip = q->ip;
	r->sender = q->facts.sender;
	r->helo = *q->facts.helo ? q->facts.helo : NULL;
	r->identities = q->read_once ? &q->parts : NULL;
	r->identity = which;
	r->receiver = receiver_of(q);
	r->void_limit = q->cfg->void_limit;
	r->void_count = q->cfg->void_count;
	r->deadline_ms = q->cfg->lookup_time * 1000;
	if (r->deadline_ms > (unsigned)left)
		r->deadline_ms = (unsigned)left;
	r->no_trace = true;   /* never shown */
	r->budget = q->c->d->budget;
	q->running = (int)which;
	q->job[which] = spf_check_start(q->c->d->res, r, on_job_done, q, &st);
	if (spf_job_waiting(q->job[which]))
		budget_report(q->c->d);
	if (q->job[which] == NULL) {
		q->running = -1;
		id->checked = true;
		id->result = st == SPF_EINVAL ? SPF_RESULT_NONE : SPF_RESULT_TEMPERROR;
		id->problem = st == SPF_EINVAL ? "the identity cannot be checked" :
			"out of memory";
		return false;
	}
	return true;
}

/* Answer with the bypass comment (C.6: X-Comment). */
static void answer_bypass(struct preq *q)
{
	spf_buf_t b;
	char hb[300], sb[600];
	const char *rcv = receiver_of(q);

	if (q->cfg->header_type == POLICY_HDR_NONE) {
		answer(q, "DUNNO", q->bypass);
		return;
	}
	spf_addr_str(&q->ip, q->ipbuf, sizeof(q->ipbuf));
	spf_buf_init(&b, 4096);
	spf_buf_printf(&b, "PREPEND X-Comment: %s - client-ip=%s; helo=%s; envelope-from=%s; "
		"receiver=%s", q->bypass, q->ipbuf,
		policy_printable(q->facts.helo, hb, sizeof(hb), 255),
		policy_printable(*q->facts.sender ? q->facts.sender : "<>", sb, sizeof(sb), 300),
		rcv ? rcv : "<UNKNOWN>");
	answer(q, b.err == SPF_OK ? spf_buf_cstr(&b) : "DUNNO", q->bypass);
	spf_buf_finish(&b);
}

static void on_wl_job(spf_job_t *job, void *arg)
{
	struct preq *q = arg;

	if (spf_job_result(job) == SPF_RESULT_PASS)
		q->bypass = "SPF skipped for whitelisted relay domain";
	spf_job_destroy(q->wl_job);
	q->wl_job = NULL;
	step(q);
}

static void on_wl_query(const spf_dns_answer_t *ans, void *arg)
{
	struct preq *q = arg;

	q->wl_query = NULL;
	if (ans != NULL && spf_dns_answer_status(ans) == SPF_DNS_OK) {
		for (size_t i = 0; i < spf_dns_answer_count(ans); i++) {
			const spf_dns_rr_t *rr = spf_dns_answer_rr(ans, i);

			if ((rr->type == SPF_RR_A && q->ip.family == 4 &&
			     memcmp(rr->u.a, q->ip.addr, 4) == 0) ||
			    (rr->type == SPF_RR_AAAA && q->ip.family == 6 &&
			     memcmp(rr->u.aaaa, q->ip.addr, 16) == 0))
				q->bypass = "SPF skipped for whitelisted HELO name";
		}
	}
	q->wl_done = true;
	step(q);
}

/* The asynchronous whitelists; true while one is running. */
static bool whitelists(struct preq *q)
{
	const policy_config_t *cfg = q->cfg;

	if (q->timed_out)
		return false;
	while (q->bypass == NULL && q->dw_next < cfg->ndomain_whitelist) {
		const char *dom = cfg->domain_whitelist[q->dw_next++];
		spf_status_t st = SPF_OK;

		spf_free(q->wl_sender);
		q->wl_sender = spf_malloc(strlen(dom) + 12);
		if (q->wl_sender == NULL)
			return false;
		sprintf(q->wl_sender, "postmaster@%s", dom);
		memset(&q->wl_req, 0, sizeof(q->wl_req));
		cmd_request_opts(&q->c->d->co, &q->wl_req);
		q->wl_req.ip = q->ip;
		q->wl_req.sender = q->wl_sender;
		q->wl_req.helo = dom;
		q->wl_req.identity = SPF_IDENTITY_MFROM;
		q->wl_req.void_limit = cfg->void_limit;
		q->wl_req.void_count = cfg->void_count;
		q->wl_req.deadline_ms = cfg->whitelist_lookup_time * 1000;
		q->wl_req.no_trace = true;
		q->wl_req.budget = q->c->d->budget;
		q->wl_job = spf_check_start(q->c->d->res, &q->wl_req, on_wl_job, q, &st);
		if (q->wl_job != NULL)
			return true;
	}
	if (q->bypass == NULL && !q->wl_done && *q->facts.helo != '\0' &&
	    policy_name_listed(cfg->helo_whitelist, cfg->nhelo_whitelist, q->facts.helo)) {
		q->wl_query = spf_resolver_query(q->c->d->res, q->facts.helo,
			q->ip.family == 4 ? SPF_RR_A : SPF_RR_AAAA, on_wl_query, q);
		if (q->wl_query != NULL)
			return true;
	}
	q->wl_done = true;
	return false;
}

/* Go on with q: whitelists, then the identities, then answer. */
static void step(struct preq *q)
{
	policy_decision_t d;

	if (q->wl_job != NULL || q->wl_query != NULL || q->running >= 0)
		return;
	if (q->bypass == NULL && whitelists(q))
		return;
	if (q->bypass != NULL) {
		answer_bypass(q);
		return;
	}
	for (;;) {
		policy_step_t s = policy_decide(q->cfg, &q->facts, &d);

		if (s == POLICY_FINAL) {
			conclude(q, &d);
			return;
		}
		if (start_ident(q, s == POLICY_CHECK_HELO ? SPF_IDENTITY_HELO :
				SPF_IDENTITY_MFROM))
			return;
	}
}

static void on_deadline(const spf_dns_answer_t *ans, void *arg)
{
	struct preq *q = arg;
	bool waiting;

	(void)ans;
	q->deadline = NULL;
	q->timed_out = true;
	/* one still waiting for the memory budget is counted and logged
	 * with the others, once per interval (budget_report()) */
	waiting = spf_job_waiting(q->wl_job) ||
		(q->running >= 0 && spf_job_waiting(q->job[q->running]));
	if (!waiting)
		plog(LOG_WARNING, "%s: request deadline of %u s reached", q->c->peer,
			q->cfg->request_time);
	if (q->wl_job != NULL) {
		spf_job_destroy(q->wl_job);
		q->wl_job = NULL;
	}
	if (q->wl_query != NULL) {
		spf_dns_query_cancel(q->wl_query);
		q->wl_query = NULL;
		q->wl_done = true;
	}
	if (q->running >= 0) {
		policy_ident_t *id = q->running == SPF_IDENTITY_HELO ? &q->facts.helo_id :
			&q->facts.mfrom_id;

		spf_job_destroy(q->job[q->running]);
		q->job[q->running] = NULL;
		id->checked = true;
		id->result = SPF_RESULT_TEMPERROR;
		id->problem = waiting ?
			"not evaluated: the memory budget of the evaluations in flight was exhausted" :
			"the policy request deadline was reached";
		q->running = -1;
	}
	if (waiting)
		budget_report(q->c->d);
	step(q);
}

/* Handle one parsed request (takes req's values, leaves req empty with
 * a store to reuse); may answer at once. */
static void start_request(struct conn *c, policy_request_t *req)
{
	struct daemon *d = c->d;
	struct preq *q = preq_get(c);
	const char *state, *instance, *sender, *helo;
	policy_request_t empty;

	if (q == NULL) {
		policy_request_reset(req);
		send_action(c, "DUNNO");
		plog(LOG_ERR, "%s: out of memory; answered DUNNO", c->peer);
		return;
	}
	q->c = c;
	empty = q->r;   /* emptied by preq_recycle(), or all zero */
	q->r = *req;
	*req = empty;
	q->cfg = policy_config_ref(d->cfg);
	q->t0 = cmd_now_ms();
	plog(LOG_DEBUG, "%s: request %lu received", c->peer, c->nreq + 1);
	q->running = -1;
	c->cur = q;
	state = policy_req_get(&q->r, POLICY_A_PROTOCOL_STATE);
	instance = policy_req_get(&q->r, POLICY_A_INSTANCE);
	q->facts.client_address = policy_req_get(&q->r, POLICY_A_CLIENT_ADDRESS);
	q->facts.recipient = policy_req_get(&q->r, POLICY_A_RECIPIENT);
	q->facts.sender = "";
	q->facts.helo = "";

	/* C.4: one verdict per instance */
	if (*instance != '\0' && c->instance != NULL && strcmp(instance, c->instance) == 0) {
		if (strcmp(state, "END-OF-MESSAGE") != 0 && c->npending > 0) {
			char *h = c->pending[0];
			spf_buf_t *b = &d->reply;

			memmove(c->pending, c->pending + 1, --c->npending * sizeof(char *));
			spf_buf_reset(b);
			spf_buf_puts(b, "PREPEND ");
			spf_buf_puts(b, h);
			spf_free(h);
			answer(q, b->err == SPF_OK ? spf_buf_cstr(b) : "DUNNO", "instance cached");
		} else if (c->repeat != NULL) {
			char *a = spf_strdup(c->repeat);

			answer(q, a ? a : "DUNNO", "instance cached");
			spf_free(a);
		} else {
			answer(q, "DUNNO", "instance cached: header already prepended");
		}
		return;
	}
	if (strcmp(state, "RCPT") != 0 && strcmp(state, "MAIL") != 0 &&
	    strcmp(state, "DATA") != 0) {
		answer(q, "DUNNO", "not checked in this protocol state");
		return;
	}
	clear_instance(c);
	if (*instance != '\0') {
		c->instance = spf_strdup(instance);
		if (c->instance == NULL) {
			answer(q, "DUNNO", "out of memory");
			return;
		}
	}
	if (*policy_req_get(&q->r, POLICY_A_SASL_USERNAME) != '\0') {
		answer(q, "DUNNO", "authenticated client: not checked");
		return;
	}
	if (!cmd_client_ip(q->facts.client_address, &q->ip, q->why_buf[0],
	    sizeof(q->why_buf[0]))) {
		answer(q, "DUNNO", q->why_buf[0]);
		return;
	}
	/* C.7.4: the local-part keeps its case; the domain goes to its
	 * A-label.  A malformed one is checked as none (RFC 7208 §4.3). */
	sender = policy_req_get(&q->r, POLICY_A_SENDER);
	helo = policy_req_get(&q->r, POLICY_A_HELO_NAME);
	if (cmd_identities(sender, *helo != '\0' ? helo : NULL, &q->parts,
	    &q->id_arena, q->why_buf[0], sizeof(q->why_buf[0]))) {
		/* both read at once, as the jobs take them (read_once) */
		q->read_once = true;
		if (*helo != '\0')
			q->facts.helo = q->parts.helo != NULL ? q->parts.helo : "";
		q->facts.sender = q->parts.sender;
	} else {
		/* one is refused: each read on its own, the other checked */
		if (*helo != '\0') {
			const char *h = cmd_helo(helo, &q->owned_helo,
				q->why_buf[SPF_IDENTITY_HELO], sizeof(q->why_buf[0]));

			q->facts.helo = helo;
			if (h == NULL)
				q->why_none[SPF_IDENTITY_HELO] = q->why_buf[SPF_IDENTITY_HELO];
			else
				q->facts.helo = h;
		}
		if (*sender != '\0') {
			const char *s = cmd_sender(sender, &q->owned_sender,
				q->why_buf[SPF_IDENTITY_MFROM], sizeof(q->why_buf[0]));

			q->facts.sender = sender;
			if (s == NULL)
				q->why_none[SPF_IDENTITY_MFROM] = q->why_buf[SPF_IDENTITY_MFROM];
			else
				q->facts.sender = s;
		} else if (q->why_none[SPF_IDENTITY_HELO] != NULL) {
			/* postmaster@HELO with a malformed HELO */
			q->why_none[SPF_IDENTITY_MFROM] = q->why_none[SPF_IDENTITY_HELO];
		}
	}
	if (policy_net_match(q->cfg->skip, q->cfg->nskip, &q->ip))
		q->bypass = "SPF check N/A for local connections";
	else if (policy_net_match(q->cfg->whitelist, q->cfg->nwhitelist, &q->ip))
		q->bypass = "SPF skipped for whitelisted relay";
	q->deadline = spf_resolver_call_after(d->res, q->cfg->request_time * 1000,
		on_deadline, q);
	step(q);
}

static void process_input(struct conn *c)
{
	c->busy++;
	c->in_process = true;
	/* no new request while the replies are over their bound: the
	 * client reads them first (conn_update() stops reading too) */
	while (c->cur == NULL && !c->closing && !c->dead &&
	       evbuffer_get_length(c->out) < MAX_PENDING_OUTPUT) {
		size_t len = evbuffer_get_length(c->in), used = 0;
		policy_parse_status_t st;
		const char *data;

		if (len == 0)
			break;
		data = (const char *)evbuffer_pullup(c->in, -1);
		if (data == NULL)
			break;
		st = policy_parse(&c->parser, data, len, &used);
		evbuffer_drain(c->in, used);
		if (st == POLICY_PARSE_ERROR) {
			plog(LOG_WARNING, "%s: malformed request (%s); closing without a reply",
				c->peer, c->parser.error);
			c->closing = true;
			evbuffer_drain(c->in, evbuffer_get_length(c->in));
			break;
		}
		if (st == POLICY_PARSE_MORE)
			break;
		start_request(c, &c->parser.req);
	}
	c->in_process = false;
	if (c->dead) {
		conn_release(c);
		return;
	}
	if (c->cur == NULL && !c->closing && c->eof &&
	    evbuffer_get_length(c->out) < MAX_PENDING_OUTPUT) {
		if (c->parser.req.nattrs > 0 || evbuffer_get_length(c->in) > 0)
			plog(LOG_WARNING, "%s: connection closed in the middle of a request",
				c->peer);
		c->closing = true;
	}
	if (c->cur == NULL && (c->closing || c->d->stopping)) {
		c->closing = true;
		try_write(c);
	} else {
		conn_update(c);
	}
	conn_release(c);
}

/* ---- listening, signals ---- */

/*
 * Log what the slots did since the last report: connections evicted to
 * make room, accept errors (out of descriptors).  At most once per
 * SLOT_LOG_INTERVAL, never once per connection: a flood of them is what
 * an attack looks like.
 */
static void slots_report(struct daemon *d)
{
	time_t now = time(NULL);

	if (d->nevicted == d->evicted_logged && d->naccept_err == d->accept_err_logged)
		return;
	if (d->slots_logged_at != 0 && now - d->slots_logged_at < SLOT_LOG_INTERVAL)
		return;
	plog(LOG_WARNING, "all %u connection slots taken: %lu idle or partial connections "
		"evicted (the oldest first) and %lu accepts failed for want of file "
		"descriptors %s; %u connections now", d->max_conns,
		d->nevicted - d->evicted_logged, d->naccept_err - d->accept_err_logged,
		d->slots_logged_at != 0 ? "since the last report" : "so far", d->nconns);
	d->evicted_logged = d->nevicted;
	d->accept_err_logged = d->naccept_err;
	d->slots_logged_at = now;
}

/* The connection a new one may take the slot of: the one idle or
 * receiving a request (none in flight) that has been so the longest, and
 * for EVICT_MIN_AGE_MS at least (a client just connected or just answered
 * may not have been read yet: it waits in the backlog instead). */
static struct conn *eviction_victim(struct daemon *d)
{
	struct conn *v = NULL;
	double before = cmd_now_ms() - EVICT_MIN_AGE_MS;

	for (struct conn *c = d->conns; c != NULL; c = c->next)
		if (c->cur == NULL && !c->dead && c->since <= before &&
		    (v == NULL || c->since < v->since))
			v = c;
	return v;
}

static void listeners_set(struct daemon *d, bool on)
{
	if (on == d->listening)
		return;
	for (size_t i = 0; i < d->nlisteners; i++) {
		if (on)
			evconnlistener_enable(d->listeners[i]);
		else
			evconnlistener_disable(d->listeners[i]);
	}
	d->listening = on;
}

/* Accept while a slot is free or can be freed by eviction; when none
 * can yet, look again in a second (connections age into victims). */
static void listeners_update(struct daemon *d)
{
	bool room = d->nconns < d->max_conns || eviction_victim(d) != NULL;
	struct timeval tv = { .tv_sec = 1 };

	listeners_set(d, !d->stopping && !d->accept_backoff && d->nlisteners > 0 && room);
	if (!room && !d->stopping && !evtimer_pending(d->backoff_timer, NULL))
		evtimer_add(d->backoff_timer, &tv);
}

static void on_backoff(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	d->accept_backoff = false;
	listeners_update(d);
}

/* accept() failed.  Out of descriptors, the pending connection stays in
 * the backlog and the listener would wake the loop again at once: pause
 * accepting for a second (or until a connection closes). */
static void on_accept_error(struct evconnlistener *l, void *arg)
{
	struct daemon *d = arg;
	int e = EVUTIL_SOCKET_ERROR();
	struct timeval tv = { .tv_sec = 1 };

	(void)l;
	if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM) {
		plog(LOG_WARNING, "accept: %s", evutil_socket_error_to_string(e));
		return;
	}
	d->naccept_err++;
	if (d->naccept_err == 1)   /* the first at once, then in the reports */
		plog(LOG_WARNING, "accept: %s with %u connections open; pausing accept",
			evutil_socket_error_to_string(e), d->nconns);
	slots_report(d);
	d->accept_backoff = true;
	listeners_set(d, false);
	evtimer_add(d->backoff_timer, &tv);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
	struct sockaddr *sa, int salen, void *arg)
{
	struct daemon *d = arg;
	char peer[80] = "unix";

	(void)l;
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) {
		char host[64];
		const void *a = sa->sa_family == AF_INET ?
			(const void *)&((struct sockaddr_in *)sa)->sin_addr :
			(const void *)&((struct sockaddr_in6 *)sa)->sin6_addr;
		unsigned port = ntohs(sa->sa_family == AF_INET ?
			((struct sockaddr_in *)sa)->sin_port :
			((struct sockaddr_in6 *)sa)->sin6_port);

		evutil_inet_ntop(sa->sa_family, a, host, sizeof(host));
		snprintf(peer, sizeof(peer), "%s:%u", host, port);
	} else {
		snprintf(peer, sizeof(peer), "unix:%d", (int)fd);
	}
	(void)salen;
	if (!d->stopping && d->nconns >= d->max_conns) {
		/* slowloris: stalled clients must not lock Postfix out */
		struct conn *v = eviction_victim(d);

		if (v != NULL) {
			plog(LOG_DEBUG, "%s: evicted for %s (all %u slots taken)", v->peer, peer,
				d->max_conns);
			d->nevicted++;
			conn_free(v);
			slots_report(d);
		}
	}
	if (d->stopping || d->nconns >= d->max_conns || conn_create(d, fd, fd, peer) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	if (d->nconns >= d->max_conns && d->listening) {
		listeners_update(d);
		if (!d->listening)
			plog(LOG_DEBUG, "%u connections, each busy or new: not accepting "
				"more for now", d->nconns);
	}
}

/* Remove the socket file of listener i, if it is still the one we made:
 * another instance may have replaced it since (never remove theirs). */
static void remove_socket(struct daemon *d, size_t i)
{
	const char *path = d->unix_paths[i];
	struct stat sb;

	if (lstat(path, &sb) != 0) {
		plog(LOG_WARNING, "socket %s: %s; nothing to remove", path, strerror(errno));
		return;
	}
	if (sb.st_dev != d->unix_dev[i] || sb.st_ino != d->unix_ino[i]) {
		plog(LOG_WARNING, "socket %s was replaced by another process; left in place",
			path);
		return;
	}
	if (unlink(path) != 0)
		plog(LOG_WARNING, "cannot remove the socket %s: %s (its directory is not "
			"writable by this user); the next start replaces it", path,
			strerror(errno));
}

static void close_listeners(struct daemon *d)
{
	for (size_t i = 0; i < d->nlisteners; i++) {
		evconnlistener_free(d->listeners[i]);
		d->listeners[i] = NULL;
		if (d->unix_paths[i] != NULL) {
			remove_socket(d, i);
			spf_free(d->unix_paths[i]);
			d->unix_paths[i] = NULL;
		}
	}
	d->nlisteners = 0;
	d->listening = false;
}

static void maybe_stop(struct daemon *d)
{
	if (d->stopping && d->nconns == 0)
		event_base_loopbreak(d->base);
}

static void on_stop_timer(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	plog(LOG_WARNING, "requests still in flight after the grace time; exiting");
	event_base_loopbreak(d->base);
}

/* The cap on DNS queries out at once: --max-queries-in-flight, else the
 * configuration's Max_Queries_In_Flight, else the resolver's default;
 * returns the one in force. */
static unsigned apply_max_inflight(struct daemon *d)
{
	return spf_resolver_set_max_inflight(d->res, d->co.max_inflight ?
		d->co.max_inflight : d->cfg != NULL ? d->cfg->max_inflight : 0);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		policy_config_t *c = NULL;
		char *err = NULL;

		if (d->log_to == LOG_TO_FILE && !open_log(d))
			plog(LOG_ERR, "cannot reopen the log file %s: %s", d->log_path,
				strerror(errno));
		if (d->config_path == NULL) {
			plog(LOG_INFO, "SIGHUP: no --config to re-read");
			return;
		}
		if (policy_config_load(d->config_path, &c, &err, config_warn, NULL) != SPF_OK) {
			plog(LOG_ERR, "SIGHUP: %s; keeping the old configuration",
				err ? err : "out of memory");
			spf_free(err);
			return;
		}
		policy_config_unref(d->cfg);
		d->cfg = c;
		plog(LOG_INFO, "SIGHUP: configuration re-read from %s (DNS queries "
			"in flight: at most %u)", d->config_path, apply_max_inflight(d));
		return;
	}
	if (d->stopping)
		return;
	plog(LOG_INFO, "signal %d: stopping after the requests in flight", (int)sig);
	d->stopping = true;
	close_listeners(d);
	for (struct conn *c = d->conns, *next; c != NULL; c = next) {
		next = c->next;
		c->closing = true;
		if (c->cur == NULL)
			try_write(c);   /* frees c once its output is written */
		else
			conn_update(c);
	}
	{
		struct timeval tv = { .tv_sec = d->cfg->request_time + 5 };

		d->stop_timer = evtimer_new(d->base, on_stop_timer, d);
		if (d->stop_timer != NULL)
			evtimer_add(d->stop_timer, &tv);
	}
	maybe_stop(d);
}

/* The socket at un is left from a process that is gone (true), or some
 * process listens on it: another instance (false, logged).  A
 * non-blocking connect, as a full backlog blocks a blocking one. */
static bool stale_socket(struct daemon *d, const char *spec, const struct sockaddr_un *un)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int r, e;

	if (fd < 0) {
		startup_error(d, "--listen %s: socket: %s", spec, strerror(errno));
		return false;
	}
	r = connect(fd, (const struct sockaddr *)un, sizeof(*un));
	e = errno;
	close(fd);
	if (r != 0 && (e == ECONNREFUSED || e == ENOENT))
		return true;
	if (r == 0 || e == EAGAIN || e == EINPROGRESS)
		startup_error(d, "--listen %s: a process is listening on it (another spfcheck "
			"policyd already running?); not replacing it", spec);
	else
		startup_error(d, "--listen %s: cannot tell whether a process listens on it "
			"(connect: %s); not replacing it", spec, strerror(e));
	return false;
}

/* A listening socket passed by the service manager (listen_fds.c): served
 * like one of --listen, but its file is the socket unit's to keep. */
static bool listen_adopt(struct daemon *d, const listen_fd_t *lf)
{
	struct evconnlistener *l;

	if (d->nlisteners >= MAX_LISTEN) {
		startup_error(d, "at most %d sockets, --listen and passed together", MAX_LISTEN);
		return false;
	}
	/* backlog 0: already listening, with the unit's Backlog= */
	l = evconnlistener_new(d->base, on_accept, d,
		LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, lf->fd);
	if (l == NULL) {
		startup_error(d, "passed socket %s: %s", lf->name, strerror(errno));
		return false;
	}
	evconnlistener_set_error_cb(l, on_accept_error);
	d->listeners[d->nlisteners] = l;
	d->unix_paths[d->nlisteners] = NULL;
	d->nlisteners++;
	plog(LOG_INFO, "socket %s (descriptor %d) passed by the service manager", lf->name,
		lf->fd);
	return true;
}

/* "unix:PATH" or "inet:HOST:PORT" ("[v6]:PORT" too) */
static bool listen_on(struct daemon *d, const char *spec, unsigned mode)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	struct evconnlistener *l;
	char *path = NULL;
	unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE;
	mode_t old_mask;

	memset(&ss, 0, sizeof(ss));
	if (spec == NULL)
		return false;
	if (d->nlisteners >= MAX_LISTEN) {
		startup_error(d, "at most %d --listen options", MAX_LISTEN);
		return false;
	}
	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;
		struct stat sb;

		if (spec[5] == '\0' || strlen(spec + 5) >= sizeof(un->sun_path)) {
			startup_error(d, "--listen %s: the path is empty or too long", spec);
			return false;
		}
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, spec + 5);
		sslen = (int)sizeof(*un);
		if (lstat(un->sun_path, &sb) == 0) {
			if (!S_ISSOCK(sb.st_mode)) {
				startup_error(d, "--listen %s: exists and is not a socket", spec);
				return false;
			}
			if (!stale_socket(d, spec, un))
				return false;
			unlink(un->sun_path);
		}
		path = spf_strdup(un->sun_path);
		if (path == NULL)
			return false;
	} else if (strncmp(spec, "inet:", 5) == 0) {
		if (evutil_parse_sockaddr_port(spec + 5, (struct sockaddr *)&ss, &sslen) != 0 ||
		    strrchr(spec + 5, ':') == NULL) {
			startup_error(d, "--listen %s: not inet:HOST:PORT with a numeric "
				"address", spec);
			return false;
		}
	} else {
		startup_error(d, "--listen %s: not unix:PATH or inet:HOST:PORT", spec);
		return false;
	}
	/* the socket file is made with --socket-mode by bind(), so no
	 * client connects before a chmod */
	old_mask = umask(~mode & 0777);
	l = evconnlistener_new_bind(d->base, on_accept, d, flags, 256,
		(struct sockaddr *)&ss, sslen);
	umask(old_mask);
	if (l == NULL) {
		startup_error(d, "--listen %s: %s", spec, strerror(errno));
		spf_free(path);
		return false;
	}
	evconnlistener_set_error_cb(l, on_accept_error);
	if (path != NULL) {
		struct stat sb;

		if (lstat(path, &sb) != 0) {
			startup_error(d, "--listen %s: %s", spec, strerror(errno));
			evconnlistener_free(l);
			spf_free(path);
			return false;
		}
		d->unix_dev[d->nlisteners] = sb.st_dev;
		d->unix_ino[d->nlisteners] = sb.st_ino;
	}
	d->listeners[d->nlisteners] = l;
	d->unix_paths[d->nlisteners] = path;
	d->nlisteners++;
	return true;
}

/*
 * Each connection takes a descriptor: --max-connections must fit under
 * RLIMIT_NOFILE with FD_RESERVE to spare, or accept() fails with EMFILE
 * before the slots are full (and eviction never starts).  Raise the soft
 * limit if the hard one allows; else serve fewer connections, said once.
 */
static void fit_descriptors(struct daemon *d)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)d->max_conns + FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= need)
		return;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) {
		rlim_t was = rl.rlim_cur;

		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0) {
			plog(LOG_INFO, "file descriptor limit raised from %lu to %lu for "
				"--max-connections %u", (unsigned long)was, (unsigned long)need,
				d->max_conns);
			return;
		}
		rl.rlim_cur = was;
	}
	d->max_conns = (unsigned)(rl.rlim_cur > 2 * FD_RESERVE ? rl.rlim_cur - FD_RESERVE :
		rl.rlim_cur / 2);
	plog(LOG_WARNING, "--max-connections needs %lu file descriptors but the limit "
		"(RLIMIT_NOFILE) is %lu, hard %lu: serving at most %u connections; raise "
		"it (ulimit -n, systemd LimitNOFILE=)", (unsigned long)need,
		(unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max, d->max_conns);
}

static bool drop_privileges(struct daemon *d, const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0) {
		if (user != NULL)
			plog(LOG_INFO, "not root: --user %s ignored", user);
		return true;
	}
	if (user == NULL) {
		plog(LOG_WARNING, "running as root; use --user to run as an unprivileged user");
		return true;
	}
	pw = getpwnam(user);
	if (pw == NULL) {
		startup_error(d, "--user %s: no such user", user);
		return false;
	}
	if (pw->pw_uid == 0) {
		startup_error(d, "--user %s: that is root", user);
		return false;
	}
	for (size_t i = 0; i < d->nlisteners; i++)
		if (d->unix_paths[i] != NULL && chown(d->unix_paths[i], pw->pw_uid, pw->pw_gid) != 0)
			plog(LOG_WARNING, "chown %s: %s", d->unix_paths[i], strerror(errno));
	/* a log file we created becomes the user's (SIGHUP reopens it); an
	 * existing one, maybe /var/log/mail.log, keeps its owner */
	if (d->log_to == LOG_TO_FILE && d->log_fd >= 0 && d->log_created &&
	    fchown(d->log_fd, pw->pw_uid, pw->pw_gid) != 0)
		plog(LOG_WARNING, "chown %s: %s", d->log_path, strerror(errno));
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		startup_error(d, "--user %s: cannot switch: %s", user, strerror(errno));
		return false;
	}
	return true;
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
		sa.st_ino == sb.st_ino;
}

static bool is_socket(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode);
}

static bool is_regular(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The resolver, as cmd_resolver() but with errors through startup_error. */
static bool make_resolver(struct daemon *d)
{
	spf_resolver_opts_t ro = {
		.offline = d->co.offline,
		.nameservers = d->co.nameservers,
		.nnameservers = (size_t)d->co.nnameservers,
		.timeout_ms = d->co.timeout_ms,
		.max_inflight = d->co.max_inflight,
	};
	spf_status_t st = SPF_ENOMEM;
	char *msg = NULL;

	d->res = spf_resolver_create_ex(d->base, &ro, &st, &msg);
	if (d->res == NULL) {
		startup_error(d, "cannot create the resolver: %s", msg ? msg : spf_strerror(st));
		spf_free(msg);
		return false;
	}
	for (int i = 0; i < d->co.nzones; i++) {
		st = spf_zone_load_file(spf_resolver_zone(d->res), d->co.zones[i], NULL, &msg);
		if (st != SPF_OK) {
			startup_error(d, "cannot load zone file: %s", msg ? msg : spf_strerror(st));
			spf_free(msg);
			return false;
		}
	}
	for (int i = 0; i < d->co.nrecords; i++) {
		const char *eq = strchr(d->co.records[i], '=');
		char *name = spf_strndup(d->co.records[i], (size_t)(eq - d->co.records[i]));

		st = name ? spf_zone_replace_txt(spf_resolver_zone(d->res), name, eq + 1,
			strlen(eq + 1)) : SPF_ENOMEM;
		spf_free(name);
		if (st != SPF_OK) {
			startup_error(d, "--record %s: %s", d->co.records[i], spf_strerror(st));
			return false;
		}
	}
	return true;
}

/* A command-line error held while stderr may be the Postfix socket:
 * the first one (option parsing stops there). */
static char held_error[512];

static void hold_error(const char *msg)
{
	if (held_error[0] == '\0')
		snprintf(held_error, sizeof(held_error), "%s", msg);
}

int cmd_policyd(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'C' },
		{ "listen", required_argument, NULL, 'L' },
		{ "socket-mode", required_argument, NULL, 'M' },
		{ "user", required_argument, NULL, 'U' },
		{ "log", required_argument, NULL, 'G' },
		{ "log-format", required_argument, NULL, 'F' },
		{ "max-connections", required_argument, NULL, 'N' },
		{ "idle-timeout", required_argument, NULL, 'I' },
		{ "receive-timeout", required_argument, NULL, 'R' },
		{ "send-timeout", required_argument, NULL, 'S' },
		{ "memory-budget", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		COMMON_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	static struct daemon dd;
	struct daemon *d = &dd;
	const char *listen_specs[MAX_LISTEN], *user = NULL, *log_arg = NULL;
	size_t nlisten = 0;
	listen_fd_t passed[MAX_LISTEN];
	char passed_err[256];
	int npassed;
	unsigned long mode = 0666;
	struct event_config *ecfg = NULL;
	char *err = NULL;
	int opt, rc = EXIT_USAGE;
	bool help = false, stderr_shared;

	memset(d, 0, sizeof(*d));
	d->pid = getpid();
	d->log_fd = -1;
	spf_buf_init(&d->reply, REPLY_MAX);
	held_error[0] = '\0';
	/* first, so that the variables are gone whatever happens next */
	npassed = listen_fds_get(passed, MAX_LISTEN, passed_err, sizeof(passed_err));
	/* C.8: spawn(8) gives stderr the socket of stdout.  Until the
	 * options say whether this is spawn mode, an error is held, then
	 * logged (spawn) or written to stderr (--listen, where stderr may be
	 * a socket to the journal). */
	stderr_shared = is_socket(STDERR_FILENO) || same_file(STDERR_FILENO, STDOUT_FILENO) ||
		same_file(STDERR_FILENO, STDIN_FILENO);
	if (stderr_shared)
		cmd_error_redirect(hold_error);
	/* no JSON replies; the time and void limits come from the
	 * configuration (Lookup_Time, Void_Limit) */
	d->co.cmd = "policyd";
	d->co.not_for = COMMON_BIT(1004) | COMMON_BIT(1012) | COMMON_BIT(1014);
	d->max_conns = DEFAULT_MAX_CONNS;
	d->idle_timeout = 600;
	d->receive_timeout = DEFAULT_RECEIVE_TIMEOUT;
	d->send_timeout = DEFAULT_SEND_TIMEOUT;
	d->budget_bytes = SPF_BUDGET_DEFAULT;
	d->stderr_ok = true;
	optind = 1;
	opterr = 0;
	/* options first, so that spawn mode knows where to log */
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		int cr = common_opt(&d->co, opt, optarg);
		char *end;

		if (cr < 0)
			goto parsed;
		if (cr > 0)
			continue;
		switch (opt) {
		case 'C':
			d->config_path = optarg;
			break;
		case 'L':
			if (nlisten >= MAX_LISTEN) {
				cmd_error("at most %d --listen options", MAX_LISTEN);
				goto parsed;
			}
			listen_specs[nlisten++] = optarg;
			break;
		case 'M':
			mode = strtoul(optarg, &end, 8);
			if (*optarg == '\0' || *end != '\0' || mode > 0777) {
				cmd_error("--socket-mode '%s': not an octal mode", optarg);
				goto parsed;
			}
			break;
		case 'U':
			user = optarg;
			break;
		case 'G':
			log_arg = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "full") != 0 && strcmp(optarg, "compact") != 0) {
				char p[64];

				cmd_error("--log-format '%s': not full or compact",
					cmd_printable(optarg, p, sizeof(p)));
				goto parsed;
			}
			d->log_compact = strcmp(optarg, "compact") == 0;
			break;
		case 'N':
		case 'I':
		case 'R':
		case 'S': {
			unsigned long v = strtoul(optarg, &end, 10);

			if (*optarg < '0' || *optarg > '9' || *end != '\0' || v == 0 || v > 1000000) {
				cmd_error("--%s '%s': not a number from 1 to 1000000",
					opt == 'N' ? "max-connections" : opt == 'I' ? "idle-timeout" :
					opt == 'R' ? "receive-timeout" : "send-timeout", optarg);
				goto parsed;
			}
			if (opt == 'N')
				d->max_conns = (unsigned)v;
			else if (opt == 'I')
				d->idle_timeout = (unsigned)v;
			else if (opt == 'R')
				d->receive_timeout = (unsigned)v;
			else
				d->send_timeout = (unsigned)v;
			break;
		}
		case 'B':
			if (!cmd_memory_budget(optarg, &d->budget_bytes))
				goto parsed;
			break;
		case 'h':
			help = true;
			break;
		default:   /* ':' (a value missing) or an unknown option */
			cmd_option_error("policyd", opt, argv[optind - 1]);
			goto parsed;
		}
	}
	if (help || cmd_operands("policyd", argc, argv, optind, 0, 0, "no arguments"))
		rc = 0;
parsed:
	cmd_error_redirect(NULL);
	/* a bad LISTEN_FDS was still meant for us: not spawn(8) */
	d->spawn = nlisten == 0 && npassed == 0;
	if (rc == 0 && help) {
		/* spawn(8): stdout is the policy socket, where the usage would
		 * be read as a reply */
		if (!d->spawn || !is_socket(STDOUT_FILENO)) {
			fputs(policyd_usage, stdout);
			return 0;
		}
		hold_error("--help: stdout is a socket (spawn(8)); the usage is not written "
			"on the policy protocol");
		rc = EXIT_USAGE;
	}
	if (rc != 0 && (!stderr_shared || !d->spawn)) {
		if (held_error[0] != '\0')
			cmd_error("%s", held_error);
		return rc;
	}
	rc = EXIT_USAGE;
	if (d->spawn) {
		/* C.8: spawn(8) gives stderr the socket of stdout: never write
		 * there.  A stderr that is a socket or the same file as stdin or
		 * stdout goes to /dev/null. */
		if (is_socket(STDERR_FILENO) || same_file(STDERR_FILENO, STDOUT_FILENO) ||
		    same_file(STDERR_FILENO, STDIN_FILENO)) {
			int fd = open("/dev/null", O_WRONLY);

			if (fd >= 0) {
				dup2(fd, STDERR_FILENO);
				if (fd != STDERR_FILENO)
					close(fd);
			}
			d->stderr_ok = false;
		}
		if (log_arg != NULL && strcmp(log_arg, "stderr") == 0) {
			d->log_to = LOG_TO_SYSLOG;
			the_daemon = d;
			startup_error(d, "--log stderr is not allowed without --listen: Postfix's "
				"spawn(8) reads stderr as part of the reply (use syslog or a file)");
			return EXIT_USAGE;
		}
	}
	if (log_arg == NULL)
		d->log_to = d->spawn ? LOG_TO_SYSLOG : LOG_TO_STDERR;
	else if (strcmp(log_arg, "syslog") == 0)
		d->log_to = LOG_TO_SYSLOG;
	else if (strcmp(log_arg, "stderr") == 0)
		d->log_to = LOG_TO_STDERR;
	else {
		d->log_to = LOG_TO_FILE;
		d->log_path = log_arg;
	}
	the_daemon = d;
	if (!open_log(d)) {
		int e = errno;

		d->log_to = LOG_TO_SYSLOG;
		open_log(d);
		startup_error(d, "cannot open the log file %s: %s", log_arg, strerror(e));
		return EXIT_USAGE;
	}
	if (held_error[0] != '\0') {
		/* a command-line error in spawn mode: logged, never on the
		 * socket; Postfix sees the exit status */
		startup_error(d, "%s", held_error);
		goto out;
	}
	d->budget = spf_budget_create(d->budget_bytes);
	if (d->budget == NULL) {
		startup_error(d, "out of memory");
		rc = EXIT_INTERNAL;
		goto out;
	}
	if (gethostname(d->hostname, sizeof(d->hostname)) != 0)
		snprintf(d->hostname, sizeof(d->hostname), "localhost");
	d->hostname[sizeof(d->hostname) - 1] = '\0';
	signal(SIGPIPE, SIG_IGN);

	ecfg = event_config_new();
	if (ecfg != NULL && d->spawn && (is_regular(STDIN_FILENO) || is_regular(STDOUT_FILENO)))
		event_config_avoid_method(ecfg, "epoll");   /* epoll refuses files */
	d->base = ecfg ? event_base_new_with_config(ecfg) : NULL;
	if (ecfg != NULL)
		event_config_free(ecfg);
	if (d->base == NULL) {
		startup_error(d, "cannot create the event loop");
		rc = EXIT_INTERNAL;
		goto out;
	}
	event_set_log_callback(on_libevent_log);
	log_attach(d);
	d->backoff_timer = evtimer_new(d->base, on_backoff, d);
	if (d->backoff_timer == NULL) {
		startup_error(d, "out of memory");
		rc = EXIT_INTERNAL;
		goto out;
	}
	if (npassed < 0) {
		startup_error(d, "%s", passed_err);
		goto out;
	}
	for (int i = 0; i < npassed; i++)
		if (!listen_adopt(d, &passed[i]))
			goto out;
	for (size_t i = 0; i < nlisten; i++)
		if (!listen_on(d, listen_specs[i], (unsigned)mode))
			goto out;
	if (!d->spawn)
		fit_descriptors(d);
	if (!drop_privileges(d, user))
		goto out;
	/* after switching users, so a config that user cannot read fails
	 * now and not at the first SIGHUP (C.8) */
	if (d->config_path != NULL) {
		if (policy_config_load(d->config_path, &d->cfg, &err, config_warn, NULL) != SPF_OK) {
			startup_error(d, "%s", err ? err : "out of memory");
			spf_free(err);
			goto out;
		}
	} else if ((d->cfg = policy_config_create()) == NULL) {
		startup_error(d, "out of memory");
		rc = EXIT_INTERNAL;
		goto out;
	}
	if (!make_resolver(d))
		goto out;
	apply_max_inflight(d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, on_signal, d);
	d->sig_term = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->sig_int = evsignal_new(d->base, SIGINT, on_signal, d);
	if (d->sig_hup == NULL || d->sig_term == NULL || d->sig_int == NULL ||
	    evsignal_add(d->sig_hup, NULL) != 0 || evsignal_add(d->sig_term, NULL) != 0 ||
	    evsignal_add(d->sig_int, NULL) != 0) {
		startup_error(d, "cannot set up the signal handlers");
		rc = EXIT_INTERNAL;
		goto out;
	}
	if (d->spawn) {
		if (conn_create(d, STDIN_FILENO, STDOUT_FILENO, "stdin") == NULL) {
			startup_error(d, "out of memory");
			rc = EXIT_INTERNAL;
			goto out;
		}
	} else {
		d->listening = true;
		plog(LOG_INFO, "listening on %zu socket(s)%s%s", d->nlisteners,
			d->config_path ? ", config " : "", d->config_path ? d->config_path : "");
	}
	event_base_dispatch(d->base);
	plog(d->spawn ? LOG_DEBUG : LOG_INFO, "exiting: %lu requests on %lu connections",
		d->nrequests, d->nconnections);
	rc = 0;
out:
	d->spawn = false;   /* no loopbreak from conn_free now */
	d->stopping = true;
	while (d->conns != NULL) {
		d->conns->busy = 0;
		conn_free(d->conns);
	}
	close_listeners(d);
	spf_budget_destroy(d->budget);   /* after the jobs (conn_free) */
	d->budget = NULL;
	if (d->sig_hup) event_free(d->sig_hup);
	if (d->sig_term) event_free(d->sig_term);
	if (d->sig_int) event_free(d->sig_int);
	if (d->stop_timer) event_free(d->stop_timer);
	if (d->backoff_timer) event_free(d->backoff_timer);
	spf_resolver_destroy(d->res);
	close_log(d);   /* the last lines, before its event goes with the loop */
	the_daemon = NULL;   /* nothing is logged from here on */
	if (d->base)
		event_base_free(d->base);
	event_set_log_callback(NULL);
	policy_config_unref(d->cfg);
	spf_buf_finish(&d->reply);
	return rc;
}
