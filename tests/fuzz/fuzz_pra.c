/*
 * fuzz_pra.c - the PRA extractor (RFC 4407 §2) on arbitrary bytes:
 * extract, then check the invariants of what it returns (a PRA has a
 * domain inside it, statuses and errors agree, the Return-Path is a
 * string or has a reason).
 */
#include <string.h>

#include "fuzz.h"
#include "spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	spf_arena_t *arena = spf_arena_create();
	spf_pra_t pra;
	const char *err = NULL;
	spf_status_t st;
	volatile size_t sink = 0;

	if (arena == NULL)
		return 0;
	st = spf_pra_extract(arena, data, size, &pra, &err);
	if (st == SPF_OK) {
		if (pra.why == NULL || err != NULL)
			__builtin_trap();
		if ((pra.status == SPF_PRA_OK) != (pra.pra != NULL))
			__builtin_trap();
		if (pra.pra != NULL) {
			const char *at = strrchr(pra.pra, '@');

			if (at == NULL || pra.domain != at + 1 || *pra.domain == '\0')
				__builtin_trap();
		}
		if (pra.return_path != NULL && pra.return_path_problem != NULL)
			__builtin_trap();
		sink += strlen(pra.why) + strlen(spf_pra_status_str(pra.status));
		if (pra.return_path != NULL)
			sink += strlen(pra.return_path);
	} else if (err == NULL || strchr(err, '\n') != NULL) {
		__builtin_trap();
	}
	(void)sink;
	spf_arena_destroy(arena);
	return 0;
}
