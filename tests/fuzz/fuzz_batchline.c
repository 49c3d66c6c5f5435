/*
 * fuzz_batchline.c - the line parser of spfcheck batch
 * (cmd_batch_parse_line in cmd/batchline.c: IP SENDER [HELO [FROM]], the
 * sender and HELO checks with IDN conversion, the FROM field's domain)
 * on arbitrary bytes, cut at the first NUL as fgets() would leave them.
 * A parsed line must have its fields inside the text and a sender, and
 * a FROM a domain that can start a DMARC walk; a rejected one a reason
 * and nothing owned.
 */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "fuzz.h"

#define MAX_LINE 4096     /* batch.c reads at most this much per line */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmd_batch_line pl;
	char *text, why[512];
	size_t len = size > MAX_LINE ? MAX_LINE : size;

	text = malloc(len + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, len);
	text[len] = '\0';
	why[0] = '\0';
	if (cmd_batch_parse_line(text, &pl, why, sizeof why)) {
		if (pl.ip_text < text || pl.ip_text > text + len || pl.sender == NULL
		    || pl.sender_text == NULL)
			__builtin_trap();
		if (strlen(pl.sender) > 4 * MAX_LINE
		    || (pl.helo != NULL && strlen(pl.helo) > 4 * MAX_LINE))
			__builtin_trap();
		if ((pl.from_text == NULL) != (pl.from == NULL) ||
		    (pl.from != NULL && !spf_dmarc_domain_ok(pl.from)))
			__builtin_trap();
		spf_free(pl.owned_sender);
		spf_free(pl.owned_helo);
		spf_free(pl.owned_from);
		spf_arena_destroy(pl.id_arena);
	} else if (why[0] == '\0' || pl.owned_sender != NULL || pl.owned_helo != NULL
	    || pl.owned_from != NULL || pl.id_arena != NULL) {
		__builtin_trap();
	}
	free(text);
	return 0;
}
