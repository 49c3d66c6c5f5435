/*
 * cache_rss.c - the answer cache under one million distinct names: does
 * it stay within its configured budget?  (issue 6, "resource bounds")
 *
 * DESCRIPTION
 *	Puts one answer per name n<i>.bench.example (TXT, one record
 *	"v=spf1 ip4:198.51.100.<i> -all", TTL 3600, as the resolver would
 *	after a wire query) into a cache with the resolver's budget, then
 *	reports the cache's own accounting (entries, estimated bytes,
 *	evictions) and the process's peak RSS (getrusage ru_maxrss) before
 *	and after, against the budget.  The cache is the one the resolver
 *	uses (dns/cache.c); names are distinct, so every put is a miss and
 *	the LRU evicts continuously once the budget is reached.
 *
 *	usage: cache-rss [--names N] [--entries E] [--bytes B] [--memo]
 *	  N: names to insert (default 1000000)
 *	  E, B: the cache budget in answers and bytes (default 0 and 0: the
 *	        resolver's defaults, 10000 answers and 16 MiB)
 *	  --memo: give each answer the memo an evaluation leaves on it (the
 *	        record parsed into an arena of its own, as check/memo.c's
 *	        parse_memo() does), which the cache's estimate does not see
 *
 *	Built by meson (build/bench/cache-rss), never run as a test.  Prints
 *	one line "key=value ..." per run; exit 1 if the peak RSS grew by
 *	more than twice the byte budget plus 8 MiB (the heap allocator's
 *	slack), 0 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "dns_internal.h"
#include "internal.h"

#define DEFAULT_ENTRIES 10000              /* cache.c's defaults */
#define DEFAULT_BYTES (16u * 1024 * 1024)
#define SLACK (8u * 1024 * 1024)

static size_t peak_rss(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (size_t)ru.ru_maxrss * 1024;   /* Linux: kilobytes */
}

static unsigned long arg_num(const char *s, const char *opt)
{
	char *end;
	unsigned long v = strtoul(s != NULL ? s : "", &end, 10);

	if (s == NULL || *s == '\0' || *end != '\0') {
		fprintf(stderr, "cache-rss: %s needs a number\n", opt);
		exit(2);
	}
	return v;
}

/* check/memo.c's memo: the record parsed in an arena of its own. */
static void memo_free(void *p)
{
	spf_arena_destroy(p);
}

static void add_memo(spf_dns_answer_t *ans)
{
	const spf_dns_rr_t *rr = spf_dns_answer_rr(ans, 0);
	spf_arena_t *arena = spf_arena_create();
	spf_record_t *rec = NULL;
	spf_parse_error_t err;

	if (arena == NULL || spf_record_parse(arena, rr->u.txt.data, rr->u.txt.len,
	    &rec, &err) == SPF_ENOMEM || !spf_dns_answer_set_memo(ans, arena, memo_free))
		spf_arena_destroy(arena);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned long names = 1000000;
	size_t entries = 0, bytes = 0, rss0, rss1, budget;
	bool memo = false;
	spf_cache_t *cache;
	double t0, secs;
	char name[64], text[64];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--names") == 0)
			names = arg_num(argv[++i], "--names");
		else if (strcmp(argv[i], "--entries") == 0)
			entries = arg_num(argv[++i], "--entries");
		else if (strcmp(argv[i], "--bytes") == 0)
			bytes = arg_num(argv[++i], "--bytes");
		else if (strcmp(argv[i], "--memo") == 0)
			memo = true;
		else {
			fprintf(stderr, "usage: cache-rss [--names N] [--entries E] [--bytes B] [--memo]\n");
			return 2;
		}
	}
	budget = bytes > 0 ? bytes : DEFAULT_BYTES;
	cache = spf_cache_create(entries, bytes, NULL, NULL);
	if (cache == NULL) {
		fprintf(stderr, "cache-rss: out of memory\n");
		return 1;
	}
	rss0 = peak_rss();
	t0 = now_s();
	for (unsigned long i = 0; i < names; i++) {
		spf_dns_answer_t *ans;
		spf_dns_rr_t rr;
		int n;

		snprintf(name, sizeof name, "n%lu.bench.example", i);
		n = snprintf(text, sizeof text, "v=spf1 ip4:198.51.100.%lu -all", i % 256);
		memset(&rr, 0, sizeof rr);
		rr.type = SPF_RR_TXT;
		rr.ttl = 3600;
		{
			uint16_t len = (uint16_t)n;

			rr.u.txt.data = (const uint8_t *)text;
			rr.u.txt.len = (size_t)n;
			rr.u.txt.nstrings = 1;
			rr.u.txt.lens = &len;
			ans = spf_dns_answer_create(name, SPF_RR_TXT, SPF_DNS_OK);
			if (ans == NULL || spf_dns_answer_add(ans, &rr) != SPF_OK) {
				fprintf(stderr, "cache-rss: out of memory at %lu\n", i);
				return 1;
			}
		}
		spf_cache_put(cache, ans);
		if (memo)
			add_memo(ans);   /* after the put, as in an evaluation */
		spf_dns_answer_unref(ans);
	}
	secs = now_s() - t0;
	rss1 = peak_rss();
	printf("names=%lu memo=%s budget_entries=%zu budget_bytes=%zu entries=%zu "
		"estimated_bytes=%zu evictions=%lu peak_rss_before=%zu "
		"peak_rss_after=%zu rss_growth=%zu growth_per_budget=%.2f "
		"puts_per_s=%.0f\n",
		names, memo ? "yes" : "no", entries > 0 ? entries : (size_t)DEFAULT_ENTRIES, budget,
		spf_cache_entries(cache), spf_cache_bytes(cache),
		spf_cache_evictions(cache), rss0, rss1, rss1 - rss0,
		(double)(rss1 - rss0) / (double)budget, secs > 0 ? (double)names / secs : 0.0);
	spf_cache_destroy(cache);
	return rss1 - rss0 > 2 * budget + SLACK ? 1 : 0;
}
