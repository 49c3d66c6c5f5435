/*
 * fuzz_identity.c - the one reader of identities (spf_identity_parse in
 * evaluator/check/identity.c) on arbitrary bytes: IP, sender and HELO separated
 * by NUL bytes (a missing part is NULL).  Parsed: check_host()'s address
 * is local "@" domain, each part is set, and a sender or HELO holding CR
 * or LF was never accepted.  Refused: a reason is given.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *part[3] = { NULL, NULL, NULL }, *p;
	int n = 0;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (p = buf; n < 3 && p <= buf + size; p += strlen(p) + 1)
		part[n++] = p;
	for (int which = 0; which < 2; which++) {
		spf_arena_t *a = spf_arena_create();
		spf_identity_parts_t out;
		const char *why = NULL;
		spf_status_t st;

		if (a == NULL)
			break;
		st = spf_identity_parse(a, part[0] != NULL && *part[0] != '\0' ? part[0] : NULL,
			part[1], part[2], which == 0 ? SPF_IDENTITY_MFROM : SPF_IDENTITY_HELO,
			&out, &why);
		if (st == SPF_OK) {
			size_t ll, dl;

			if (out.checked == NULL || out.local == NULL || out.domain == NULL ||
			    out.sender == NULL)
				__builtin_trap();
			ll = strlen(out.local);
			dl = strlen(out.domain);
			if (strlen(out.checked) != ll + 1 + dl ||
			    memcmp(out.checked, out.local, ll) != 0 || out.checked[ll] != '@' ||
			    strcmp(out.checked + ll + 1, out.domain) != 0)
				__builtin_trap();
			if ((part[1] != NULL && strpbrk(part[1], "\r\n") != NULL) ||
			    (part[2] != NULL && strpbrk(part[2], "\r\n") != NULL))
				__builtin_trap();
		} else if (st == SPF_EINVAL && why == NULL) {
			__builtin_trap();
		}
		spf_arena_destroy(a);
	}
	free(buf);
	return 0;
}
