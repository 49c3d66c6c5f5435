/*
 * fuzz_dmarc.c - the DMARC record parser (evaluator/dmarc/record.c) on
 * arbitrary bytes: parse, then check that every tag and problem span
 * lies inside the record, that the effective policy is one of the
 * four values, and that a record is never both DMARC and a look-alike.
 */
#include <string.h>

#include "fuzz.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	spf_arena_t *arena = spf_arena_create();
	spf_dmarc_record_t *rec = NULL;
	volatile size_t sink = 0;

	if (arena == NULL)
		return 0;
	if (spf_dmarc_parse(arena, data, size, &rec) == SPF_OK) {
		if (rec->len > size || (rec->is_dmarc && rec->lookalike))
			__builtin_trap();
		for (size_t i = 0; i < rec->ntags; i++) {
			const spf_dmarc_tag_t *t = &rec->tags[i];

			if (t->offset + t->len > rec->len ||
			    t->value_offset + t->value_len > t->offset + t->len ||
			    t->value_len == 0)
				__builtin_trap();
			sink += strlen(t->name) + strlen(t->value);
		}
		for (size_t i = 0; i < rec->nproblems; i++) {
			const spf_lint_finding_t *f = &rec->problems[i];

			if (f->offset + f->len > rec->len || f->message == NULL)
				__builtin_trap();
			sink += strlen(f->message);
		}
		for (size_t i = 0; i < rec->nrua; i++)
			sink += strlen(rec->rua[i]);
		for (size_t i = 0; i < rec->nruf; i++)
			sink += strlen(rec->ruf[i]);
		for (int sub = 0; sub < 2; sub++)
			for (int ex = 0; ex < 2; ex++)
				if (spf_dmarc_policy_for(rec, sub, ex, NULL) >
				    SPF_DMARC_REJECT)
					__builtin_trap();
	}
	(void)sink;
	spf_arena_destroy(arena);
	return 0;
}
