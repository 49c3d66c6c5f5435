/*
 * dnsfixture.c - the fixture DNS server as a program, for CLI tests.
 *
 * DESCRIPTION
 *	dnsfixture [--addr ADDR] [--port N] [--latency MS] [--tcp-idle MS]
 *	           [--mode NAME=drop|servfail|refused|truncate|normal]...
 *	           [--max-seconds N]
 *	           (--zone FILE [--origin NAME] | --suite FILE --scenario N)
 *
 *	Serves a zone file (RFC 1035, read by spf_zone_load_file) or the
 *	zone data of scenario N (0-based) of a YAML test suite on ADDR
 *	(127.0.0.1 or ::1, default 127.0.0.1), UDP and TCP, port N (default
 *	0: an ephemeral port).  Once listening it prints "PORT <n>" and a
 *	newline on stdout and flushes it.
 *
 *	It runs until SIGTERM or SIGINT, until its stdin reaches end of file
 *	(when stdin is a pipe, a socket or a terminal: a harness stops it by
 *	closing the pipe), or until --max-seconds (default 300) have passed,
 *	so a forgotten server never lingers.  Whatever stdin delivers is
 *	read and discarded.
 *
 * DIAGNOSTICS
 *	Exit status 0 after a normal stop; 64 for bad usage, an --addr that
 *	is not loopback or a zone that cannot be loaded; 70 when the server
 *	cannot start (sockets, memory).  The reason goes to stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "fixture.h"
#include "suite.h"

#define EXIT_USAGE 64
#define EXIT_INTERNAL 70
#define MAX_MODE_ARGS 256

struct mode_arg {
	char *name;
	fixture_mode_t mode;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: dnsfixture [--addr ADDR] [--port N] [--latency MS] [--tcp-idle MS]\n"
		"                  [--mode NAME=drop|servfail|refused|truncate|normal|MODE]...\n"
		"                  (MODE: a hostile mode of fixture.h, e.g. bad-id, cname-loop,\n"
		"                  huge-txt, many-mx, ptr-loop, garbled, short, late)\n"
		"                  [--max-seconds N]\n"
		"                  (--zone FILE [--origin NAME] | --suite FILE --scenario N)\n");
}

/* A decimal number in [0, max]; false if s is not one. */
static bool parse_num(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_mode(char *arg, struct mode_arg *m)
{
	char *eq = strrchr(arg, '=');

	if (eq == NULL || eq == arg || fixture_mode_parse(eq + 1, &m->mode) != 0)
		return false;
	*eq = '\0';
	m->name = arg;
	return true;
}

/* Only loopback addresses are served: 127.0.0.0/8 or ::1. */
static bool is_loopback(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, addr, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static void on_lifetime(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fprintf(stderr, "dnsfixture: lifetime limit reached, stopping\n");
	event_base_loopbreak(arg);
}

static void on_stdin(evutil_socket_t fd, short what, void *arg)
{
	char buf[4096];
	ssize_t n;

	(void)what;
	n = read(fd, buf, sizeof buf);
	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
		event_base_loopbreak(arg);
}

/* Can stdin tell us about end of file through the event loop? */
static bool stdin_watchable(void)
{
	struct stat st;

	if (fstat(STDIN_FILENO, &st) != 0)
		return false;
	return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || isatty(STDIN_FILENO);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "latency", required_argument, NULL, 'l' },
		{ "tcp-idle", required_argument, NULL, 'i' },
		{ "mode", required_argument, NULL, 'm' },
		{ "max-seconds", required_argument, NULL, 't' },
		{ "zone", required_argument, NULL, 'z' },
		{ "origin", required_argument, NULL, 'o' },
		{ "suite", required_argument, NULL, 's' },
		{ "scenario", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *addr = "127.0.0.1", *zone_path = NULL, *origin = NULL;
	const char *suite_path = NULL;
	unsigned long port = 0, latency = 0, idle = 0, max_seconds = 300;
	unsigned long scenario = 0;
	bool have_scenario = false, suite_loaded = false;
	struct mode_arg modes[MAX_MODE_ARGS];
	size_t nmodes = 0;
	struct suite suite;
	spf_zone_t *zone = NULL;
	struct event_base *base = NULL;
	fixture_server_t *srv = NULL;
	struct event *sigterm = NULL, *sigint = NULL, *life = NULL, *in = NULL;
	struct timeval tv;
	int c, status = EXIT_INTERNAL;

	memset(&suite, 0, sizeof suite);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		bool ok = true;

		switch (c) {
		case 'a': addr = optarg; break;
		case 'p': ok = parse_num(optarg, 65535, &port); break;
		case 'l': ok = parse_num(optarg, 3600000, &latency); break;
		case 'i': ok = parse_num(optarg, 3600000, &idle); break;
		case 't': ok = parse_num(optarg, 86400, &max_seconds) && max_seconds > 0; break;
		case 'z': zone_path = optarg; break;
		case 'o': origin = optarg; break;
		case 's': suite_path = optarg; break;
		case 'n':
			ok = parse_num(optarg, ULONG_MAX, &scenario);
			have_scenario = true;
			break;
		case 'm':
			ok = nmodes < MAX_MODE_ARGS && parse_mode(optarg, &modes[nmodes]);
			if (ok)
				nmodes++;
			break;
		case 'h':
			usage();
			return 0;
		default:
			ok = false;
			break;
		}
		if (!ok) {
			if (c != '?')
				fprintf(stderr, "dnsfixture: bad value for --%s: %s\n",
					c == 'm' ? "mode" : "option", optarg);
			usage();
			return EXIT_USAGE;
		}
	}
	if (optind != argc || (zone_path != NULL) == (suite_path != NULL) ||
	    (suite_path != NULL) != have_scenario) {
		usage();
		return EXIT_USAGE;
	}
	if (!is_loopback(addr)) {
		fprintf(stderr, "dnsfixture: --addr %s is not a loopback address\n", addr);
		return EXIT_USAGE;
	}

	zone = spf_zone_create();
	if (zone == NULL) {
		fprintf(stderr, "dnsfixture: out of memory\n");
		goto done;
	}
	if (zone_path != NULL) {
		char *err = NULL;
		spf_status_t st = spf_zone_load_file(zone, zone_path, origin, &err);

		if (st != SPF_OK) {
			fprintf(stderr, "dnsfixture: %s\n", err != NULL ? err : spf_strerror(st));
			spf_free(err);
			status = EXIT_USAGE;
			goto done;
		}
	} else {
		if (!suite_load(suite_path, &suite)) {
			status = EXIT_USAGE;
			goto done;
		}
		suite_loaded = true;
		if (scenario >= suite.nscenarios) {
			fprintf(stderr, "dnsfixture: %s has %zu scenarios, no scenario %lu\n",
				suite_path, suite.nscenarios, scenario);
			status = EXIT_USAGE;
			goto done;
		}
		if (!suite_fill_zone(&suite.scenarios[scenario], zone)) {
			fprintf(stderr, "dnsfixture: %s: cannot load the zone data of scenario %lu\n",
				suite_path, scenario);
			status = EXIT_USAGE;
			goto done;
		}
	}

	signal(SIGPIPE, SIG_IGN);
	/* injected latency should be what was asked: libevent's default
	 * clock is CLOCK_MONOTONIC_COARSE (a few ms per tick), which made a
	 * 5 ms delay about 8 ms */
	{
		struct event_config *cfg = event_config_new();

		if (cfg != NULL)
			event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
		base = cfg != NULL ? event_base_new_with_config(cfg) : NULL;
		if (cfg != NULL)
			event_config_free(cfg);
	}
	if (base == NULL) {
		fprintf(stderr, "dnsfixture: cannot create the event loop\n");
		goto done;
	}
	srv = fixture_start(base, zone, addr, (uint16_t)port);
	if (srv == NULL)
		goto done;     /* fixture_start said why */
	fixture_set_latency(srv, (unsigned)latency);
	fixture_set_tcp_idle(srv, (unsigned)idle);
	for (size_t i = 0; i < nmodes; i++) {
		if (fixture_set_mode(srv, modes[i].name, modes[i].mode) != 0) {
			fprintf(stderr, "dnsfixture: bad --mode name: %s\n", modes[i].name);
			status = EXIT_USAGE;
			goto done;
		}
	}

	sigterm = evsignal_new(base, SIGTERM, on_stop, base);
	sigint = evsignal_new(base, SIGINT, on_stop, base);
	life = evtimer_new(base, on_lifetime, base);
	tv.tv_sec = (time_t)max_seconds;
	tv.tv_usec = 0;
	if (sigterm == NULL || sigint == NULL || life == NULL ||
	    event_add(sigterm, NULL) != 0 || event_add(sigint, NULL) != 0 ||
	    evtimer_add(life, &tv) != 0) {
		fprintf(stderr, "dnsfixture: cannot register events\n");
		goto done;
	}
	if (stdin_watchable()) {
		in = event_new(base, STDIN_FILENO, EV_READ | EV_PERSIST, on_stdin, base);
		if (in != NULL && event_add(in, NULL) != 0) {
			event_free(in);     /* not pollable: rely on signals */
			in = NULL;
		}
	}

	printf("PORT %u\n", (unsigned)fixture_port(srv));
	if (fflush(stdout) != 0) {
		fprintf(stderr, "dnsfixture: cannot write to stdout\n");
		goto done;
	}
	if (event_base_dispatch(base) < 0) {
		fprintf(stderr, "dnsfixture: event loop failed\n");
		goto done;
	}
	status = 0;
done:
	if (in != NULL)
		event_free(in);
	if (life != NULL)
		event_free(life);
	if (sigint != NULL)
		event_free(sigint);
	if (sigterm != NULL)
		event_free(sigterm);
	fixture_stop(srv);
	if (base != NULL)
		event_base_free(base);
	spf_zone_destroy(zone);
	if (suite_loaded)
		suite_free(&suite);
	return status;
}
