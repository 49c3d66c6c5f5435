/*
 * worst_tree.c - what one evaluation of the worst SPF tree costs (issue
 * 21, README "Limits and resource bounds").
 *
 * DESCRIPTION
 *	Builds, in an offline resolver's in-memory zone, the tree a hostile
 *	publisher can make: worst.test includes ten records of about 60 KB
 *	(a DNS message holds at most 64 KB) of ip4 terms that do not match
 *	the client, then "-all".  Evaluates u@worst.test once to warm the
 *	cache (the parsed records are then shared memos on the cached
 *	answers), then N more times, and reports for the lean trace (batch,
 *	the policy service) and the full trace (explain, --json):
 *	spf_job_memory() of one evaluation (with the shared records it
 *	holds) and its own part (spf_job_arena_memory()), the CPU time per evaluation
 *	(getrusage user+system over the N, divided by N), the trace's node
 *	count and the process's peak RSS.
 *
 *	usage: worst-tree [--evals N] [--full]
 *	  N: warm evaluations to time (default 200)
 *	  --full: also time the full trace
 *
 *	Built by meson (build/bench/worst-tree), never run as a test.  Prints
 *	one line "key=value ..." per mode.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "spf.h"

#define RECORD_BYTES 60000

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static size_t peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (size_t)ru.ru_maxrss;   /* Linux: kilobytes */
}

/* A record of about len bytes of ip4 terms in 10.<seed>.0.0/16. */
static void long_record(char *buf, size_t size, size_t len, unsigned seed)
{
	size_t n = (size_t)snprintf(buf, size, "v=spf1");

	for (unsigned i = 0; n + 24 < size && n < len; i++)
		n += (size_t)snprintf(buf + n, size - n, " ip4:10.%u.%u.%u",
			seed % 256, (i / 256) % 256, i % 256);
	snprintf(buf + n, size - n, " ~all");
}

static size_t count_nodes(const spf_trace_t *t)
{
	size_t n = 1;

	for (const spf_trace_t *k = t->first; k != NULL; k = k->next)
		n += count_nodes(k);
	return n;
}

static int run(spf_resolver_t *res, bool lean, unsigned evals)
{
	spf_request_t req = { 0 };
	spf_job_t *job;
	size_t mem, nodes;
	double t0, cpu;

	spf_addr_parse("198.51.100.1", &req.ip);
	req.sender = "u@worst.test";
	req.now = 1700000000;
	req.lean_trace = lean;
	job = spf_check_sync(res, &req, NULL);     /* warms the cache */
	if (job == NULL || spf_job_result(job) != SPF_RESULT_FAIL) {
		fprintf(stderr, "worst-tree: unexpected result %s\n",
			job ? spf_result_str(spf_job_result(job)) : "(no job)");
		return 1;
	}
	spf_job_destroy(job);
	t0 = cpu_seconds();
	for (unsigned i = 0; i < evals; i++)
		spf_job_destroy(spf_check_sync(res, &req, NULL));
	cpu = (cpu_seconds() - t0) / evals;
	job = spf_check_sync(res, &req, NULL);
	mem = spf_job_memory(job);
	nodes = count_nodes(spf_job_trace(job));
	printf("trace=%s evals=%u job_memory=%zu own_memory=%zu trace_nodes=%zu "
		"cpu_per_eval_us=%.1f peak_rss_kb=%zu\n", lean ? "lean" : "full",
		evals, mem, spf_job_arena_memory(job), nodes, cpu * 1e6, peak_rss_kb());
	spf_job_destroy(job);
	return 0;
}

int main(int argc, char **argv)
{
	static char rec[64000];
	struct event_base *base = event_base_new();
	spf_resolver_opts_t o = { .offline = true };
	spf_resolver_t *res = spf_resolver_create(base, &o);
	spf_zone_t *z = spf_resolver_zone(res);
	unsigned evals = 200;
	bool full = false;
	char name[64], top[1024];
	size_t n;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--evals") == 0 && i + 1 < argc)
			evals = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--full") == 0)
			full = true;
		else {
			fprintf(stderr, "usage: worst-tree [--evals N] [--full]\n");
			return 2;
		}
	}
	if (evals == 0)
		evals = 1;
	n = (size_t)snprintf(top, sizeof top, "v=spf1");
	for (unsigned i = 0; i < 10; i++) {
		snprintf(name, sizeof name, "w%u.worst.test", i);
		long_record(rec, sizeof rec, RECORD_BYTES, i);
		if (spf_zone_replace_txt(z, name, rec, strlen(rec)) != SPF_OK)
			return 1;
		n += (size_t)snprintf(top + n, sizeof top - n, " include:%s", name);
	}
	snprintf(top + n, sizeof top - n, " -all");
	if (spf_zone_replace_txt(z, "worst.test", top, strlen(top)) != SPF_OK)
		return 1;
	rc = run(res, true, evals);
	if (rc == 0 && full)
		rc = run(res, false, evals);
	spf_resolver_destroy(res);
	event_base_free(base);
	return rc;
}
