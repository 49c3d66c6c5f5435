/*
 * fuzz_eval.c - a whole evaluation of hostile records.  The input is a
 * small zone in text form (see fuzz_zone.c) plus the client address in
 * its first byte; the sender is always u@example.com.  Exercises the
 * state machine, limits, include/redirect frames, macros and exp.
 */
#include <event2/event.h>

#include "fuzz.h"
#include "spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct event_base *base;
	spf_resolver_opts_t opts = { .offline = true };
	spf_resolver_t *res;
	spf_request_t req = { .sender = "u@example.com", .helo = "mx.example.org",
		.receiver = "rx.example.net", .now = 1700000000 };
	spf_job_t *job;

	if (size < 1)
		return 0;
	if (base == NULL)
		base = event_base_new();
	res = spf_resolver_create(base, &opts);
	if (res == NULL)
		return 0;
	if (spf_zone_load_mem(spf_resolver_zone(res), (const char *)data + 1,
	    size - 1, "fuzz", "example.com", NULL) == SPF_OK) {
		if (data[0] & 0x80) {
			spf_addr_parse("2001:db8::1", &req.ip);
			req.ip.addr[15] = data[0];
		} else {
			spf_addr_parse("192.0.2.0", &req.ip);
			req.ip.addr[3] = data[0];
		}
		job = spf_check_sync(res, &req, NULL);
		if (job != NULL && !spf_job_done(job))
			__builtin_trap();
		spf_job_destroy(job);
	}
	spf_resolver_destroy(res);
	return 0;
}
