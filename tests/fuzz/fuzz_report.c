/*
 * fuzz_report.c - the aggregate report XML reader (evaluator/dmarc/
 * report.c) on arbitrary bytes: a report comes back with every record's
 * source_ip a valid address and every string readable, or an error
 * with a one-line reason; nothing else.
 */
#include <arpa/inet.h>
#include <string.h>

#include "fuzz.h"
#include "report.h"

static size_t len_of(const char *s)
{
	return s == NULL ? 0 : strlen(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	spf_report_t *rep = NULL;
	char why[256];
	volatile size_t sink = 0;
	spf_status_t st = spf_report_parse(data, size, &rep, why, sizeof(why));

	if (st != SPF_OK) {
		if (rep != NULL || (st == SPF_EINVAL && why[0] == '\0') ||
		    memchr(why, '\n', strlen(why)) != NULL)
			__builtin_trap();
		return 0;
	}
	sink += len_of(rep->org_name) + len_of(rep->domain) + len_of(rep->p);
	for (size_t i = 0; i < rep->nrecords; i++) {
		const spf_report_record_t *r = &rep->records[i];
		unsigned char a[16];

		if (inet_pton(AF_INET, r->source_ip, a) != 1 &&
		    inet_pton(AF_INET6, r->source_ip, a) != 1)
			__builtin_trap();
		sink += len_of(r->header_from) + len_of(r->envelope_from);
		for (size_t k = 0; k < r->ndkim; k++)
			sink += len_of(r->dkim_results[k].domain);
		for (size_t k = 0; k < r->nspf; k++)
			sink += len_of(r->spf_results[k].result);
	}
	(void)sink;
	spf_report_destroy(rep);
	return 0;
}
