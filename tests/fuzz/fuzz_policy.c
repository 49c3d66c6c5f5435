/*
 * fuzz_policy.c - the Postfix policy protocol parser (cmd/policyd/policy_proto.c)
 * on arbitrary bytes, fed as a socket would deliver them: in chunks whose
 * sizes come from the first byte, with the unconsumed rest carried over.
 * Checks that consumption never passes the end, that a parsed request
 * has request=smtpd_access_policy and that an error has a reason.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	policy_parser_t p;
	size_t chunk, fed = 0, have = 0;
	char *buf;

	if (size == 0)
		return 0;
	chunk = (size_t)data[0] % 64 + 1;
	data++;
	size--;
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	policy_parser_init(&p);
	while (fed < size || have > 0) {
		size_t take = size - fed < chunk ? size - fed : chunk, used = 0;
		policy_parse_status_t st;

		memcpy(buf + have, data + fed, take);
		have += take;
		fed += take;
		st = policy_parse(&p, buf, have, &used);
		if (used > have)
			__builtin_trap();
		memmove(buf, buf + used, have - used);
		have -= used;
		if (st == POLICY_PARSE_ERROR) {
			if (p.error == NULL)
				__builtin_trap();
			break;
		}
		if (st == POLICY_PARSE_REQUEST) {
			if (strcmp(policy_req_get(&p.req, POLICY_A_REQUEST),
				   "smtpd_access_policy") != 0)
				__builtin_trap();
			for (int i = 0; i < POLICY_A_COUNT; i++)
				if (p.req.value[i] != NULL && strchr(p.req.value[i], '\n') != NULL)
					__builtin_trap();
			policy_request_clear(&p.req);
			continue;
		}
		if (fed == size)
			break;
	}
	policy_parser_finish(&p);
	free(buf);
	return 0;
}
