/*
 * fuzz_record.c - the record parser on arbitrary bytes: parse, then walk
 * every term, and check the error position lies inside the record.
 */
#include <string.h>

#include "fuzz.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	spf_arena_t *arena = spf_arena_create();
	spf_record_t *rec = NULL;
	spf_parse_error_t err = { 0 };
	volatile size_t sink = 0;

	if (arena == NULL)
		return 0;
	(void)spf_record_is_spf1(data, size);
	if (spf_record_parse(arena, data, size, &rec, &err) == SPF_OK) {
		for (size_t i = 0; i < rec->nterms; i++) {
			const spf_term_t *t = &rec->terms[i];

			if (t->offset + t->len > size)
				__builtin_trap();
			sink += strlen(t->text);
			if (t->domain_spec != NULL)
				sink += strlen(t->domain_spec);
		}
	} else if (err.offset > size || err.message == NULL) {
		__builtin_trap();
	}
	(void)sink;
	spf_arena_destroy(arena);
	return 0;
}
