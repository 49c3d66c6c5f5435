/*
 * fuzz_macro.c - the macro expander on (macro-string x identity).
 * Input: 1 flag byte, 16 address bytes, then "MACRO\0SENDER\0HELO".
 */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	spf_macro_ctx_t ctx = { 0 };
	spf_buf_t out;
	const char *err = NULL, *rest, *macro, *at;
	char *copy;
	size_t mlen;
	int flags, opt;

	if (size < 17)
		return 0;
	opt = data[0];
	flags = opt & (SPF_MACRO_EXP | SPF_MACRO_DOMAIN);
	ctx.ip.family = (opt & 0x80) ? 6 : 4;
	memcpy(ctx.ip.addr, data + 1, 16);
	data += 17;
	size -= 17;
	/* a NUL-terminated working copy; the macro part may hold NULs only
	 * up to its length */
	copy = spf_malloc(size + 3);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = copy[size + 1] = copy[size + 2] = '\0';
	macro = copy;
	mlen = strnlen(copy, size);
	rest = copy + mlen + (mlen < size ? 1 : 0);
	ctx.sender = rest;
	at = strrchr(rest, '@');
	ctx.local = "postmaster";
	ctx.sender_domain = at ? at + 1 : rest;
	ctx.domain = ctx.sender_domain;
	ctx.helo = rest + strlen(rest) + 1;
	ctx.ptr = (opt & 4) ? "mail.example.com" : NULL;
	ctx.receiver = (opt & 8) ? "mx.example.org" : NULL;
	ctx.now = 1700000000;
	(void)spf_macro_check(macro, mlen, flags, NULL, NULL);
	(void)spf_macro_uses_ptr(macro, mlen);
	spf_buf_init(&out, 8192);
	if (spf_macro_expand(macro, mlen, &ctx, flags, &out, &err) == SPF_OK &&
	    (flags & SPF_MACRO_DOMAIN)) {
		/* RFC 7208 §7.3: over 253 characters (a trailing dot not
		 * counted), whole labels are dropped from the left; a name can
		 * stay longer only when its last label alone is over 253 */
		size_t n = out.len, last;

		if (n > 0 && out.data[n - 1] == '.')
			n--;
		last = n;
		while (last > 0 && out.data[last - 1] != '.')
			last--;
		if (n > 253 && n - last <= 253) {
			fprintf(stderr, "not truncated: %zu \"%.*s\"\n", n, (int)n, out.data);
			__builtin_trap();
		}
	}
	spf_buf_finish(&out);
	spf_free(copy);
	return 0;
}
