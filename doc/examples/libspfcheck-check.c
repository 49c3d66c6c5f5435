/*
 * libspfcheck-check.c - evaluate SPF from a C program with libspfcheck.
 *
 *   cc libspfcheck-check.c $(pkg-config --cflags --libs spfcheck libevent)
 *   ./a.out ZONEFILE IP SENDER       (answers from ZONEFILE only, offline)
 *
 * Prints "RESULT MECHANISM" and exits 0, or 2 on a usage or setup error.
 */
#include <spfcheck/spf.h>

#include <event2/event.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	spf_resolver_opts_t opts = { .offline = true };
	spf_request_t req = { .identity = SPF_IDENTITY_MFROM };
	struct event_base *base;
	spf_resolver_t *res;
	spf_job_t *job;
	char *err = NULL;
	int rc = 2;

	if (argc != 4 || !spf_addr_parse(argv[2], &req.ip)) {
		fprintf(stderr, "usage: %s ZONEFILE IP SENDER\n", argv[0]);
		return 2;
	}
	req.sender = argv[3];
	base = event_base_new();
	res = base ? spf_resolver_create(base, &opts) : NULL;
	if (res == NULL) {
		fprintf(stderr, "cannot set up the resolver\n");
	} else if (spf_zone_load_file(spf_resolver_zone(res), argv[1], NULL, &err) != SPF_OK) {
		fprintf(stderr, "%s\n", err ? err : "cannot load the zone");
		spf_free(err);
	} else if ((job = spf_check_sync(res, &req, NULL)) != NULL) {
		const char *mech = spf_job_mechanism(job);

		printf("%s %s\n", spf_result_str(spf_job_result(job)), mech ? mech : "-");
		spf_job_destroy(job);
		rc = 0;
	}
	spf_resolver_destroy(res);
	if (base != NULL)
		event_base_free(base);
	return rc;
}
