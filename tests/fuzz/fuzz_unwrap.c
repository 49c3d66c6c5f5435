/*
 * fuzz_unwrap.c - what carries a report (evaluator/dmarc/unwrap.c:
 * gzip and zip through libarchive, mail messages through mime.c) on
 * arbitrary bytes, with a 1 MiB limit: the XML handed back is never
 * over the limit and is NUL-terminated, and an error always has a
 * one-line reason.
 */
#include <string.h>

#include "fuzz.h"
#include "report.h"

#define LIMIT (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256], *xml = NULL;
	size_t len = 0;
	spf_wrap_t kind;
	spf_status_t st = spf_report_unwrap(data, size, LIMIT, &xml, &len, &kind,
		why, sizeof(why));

	if (st == SPF_OK) {
		if (xml == NULL || len > LIMIT || xml[len] != '\0' ||
		    kind > SPF_WRAP_MAIL)
			__builtin_trap();
	} else if (xml != NULL || (st == SPF_EINVAL && why[0] == '\0') ||
	    memchr(why, '\n', strlen(why)) != NULL) {
		__builtin_trap();
	}
	spf_free(xml);
	return 0;
}
