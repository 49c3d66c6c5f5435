/*
 * idn.c - domain names typed with non-ASCII characters to A-labels.
 *
 * DESCRIPTION
 *	spf_dns_to_ascii() converts a UTF-8 domain name to the ASCII form
 *	the DNS uses, with libidn2: IDNA2008 (RFC 5891) after UTS#46
 *	non-transitional mapping (IDN2_NONTRANSITIONAL, so "ß" stays "ß"
 *	and becomes xn--...; IDN2_NFC_INPUT normalises first; the mapping
 *	also lower-cases and accepts the full-stop variants such as U+3002
 *	as label separators).  STD3 ASCII rules are not applied.
 *
 *	A name made of ASCII bytes only is returned unchanged (same case,
 *	same trailing dot): libidn2 would reject or rewrite things SPF
 *	domains legitimately hold ("_spf.example.com", macro-expanded
 *	labels, RFC 7208 §7.3's truncated names), and an ASCII name needs
 *	no conversion.  Only a name with a byte >= 0x80 goes to libidn2.
 *
 * DIAGNOSTICS
 *	SPF_EINVAL with libidn2's reason (idn2_strerror(), static text)
 *	for a name that is not valid UTF-8 or not a valid IDN (disallowed
 *	code points, bad bidi, a label too long, ...); per RFC 7208 §4.3
 *	the caller treats such a domain as malformed (result "none").
 *	SPF_ENOMEM when memory runs out.
 */
#include "spf_dns.h"

#include <idn2.h>
#include <stdlib.h>
#include <string.h>

static bool is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

spf_status_t spf_dns_to_ascii(const char *name, char **out, const char **why)
{
	char *ascii = NULL;
	int rc;

	if (out == NULL)
		return SPF_EINVAL;
	*out = NULL;
	if (why != NULL)
		*why = NULL;
	if (name == NULL) {
		if (why != NULL)
			*why = "no name";
		return SPF_EINVAL;
	}
	if (is_ascii(name)) {
		*out = spf_strdup(name);
		return *out != NULL ? SPF_OK : SPF_ENOMEM;
	}
	rc = idn2_to_ascii_8z(name, &ascii, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
	if (rc != IDN2_OK) {
		if (why != NULL)
			*why = idn2_strerror(rc);
		return rc == IDN2_MALLOC ? SPF_ENOMEM : SPF_EINVAL;
	}
	/* libidn2 allocates with malloc: copy into our allocator */
	*out = spf_strdup(ascii);
	idn2_free(ascii);
	return *out != NULL ? SPF_OK : SPF_ENOMEM;
}
