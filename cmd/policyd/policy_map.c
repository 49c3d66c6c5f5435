/*
 * policy_map.c - SPF results to Postfix actions (SPECS C.3, C.6, C.7).
 *
 * DESCRIPTION
 *	policy_decide() is the processing flow of pypolicyd-spf without its
 *	I/O: HELO first (RFC 7208 §2.3), a HELO reject or defer is final;
 *	for the null sender the HELO verdict is final; otherwise MAIL FROM
 *	(§2.4), then the pass restriction, reject or defer, else prepend.
 *	The header prepended is MAIL FROM's, except when MAIL FROM gave none
 *	and HELO gave a real result.  Per scope, HELO_reject /
 *	Mail_From_reject choose which results reject; TempError_Defer and
 *	PermError_reject add temperror (defer) and permerror (reject) unless
 *	the scope's policy is False.
 *
 *	Replies: "550 5.7.23 TEXT" (5.7.24 for permerror and temperror,
 *	RFC 7372), "DEFER_IF_PERMIT 4.7.24 TEXT", without the enhanced code
 *	when SPF_Enhanced_Status_Codes = No.  TEXT is Reason_Message with
 *	{rejectdefer}, {spf} and {url} filled in; every byte that is not
 *	printable ASCII becomes '?' (the explanation comes from DNS, and
 *	invalid UTF-8 in an action fails the request in Postfix, C.1).
 *
 *	With TestOnly = 0 a reject, defer or restriction becomes the prepend
 *	of that identity's header (pypolicyd-spf answers dunno there).
 */
#include "policy.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_TEXT 400      /* bytes of reply text after the codes */

void policy_sanitize(spf_buf_t *buf, const char *s, size_t max)
{
	if (s != NULL)
		spf_buf_escape(buf, s, strlen(s), SPF_ESC_QMARK, max);
}

/* s[0..n) to out, each byte outside printable ASCII as '?'.  This runs
 * for every field of every log line: eight bytes are tested at once
 * (any byte below 0x20 borrows into its high bit, 0x7f carries into
 * it, the others have it), and copied as they are when all pass. */
static void copy_printable(char *out, const char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t x;

		memcpy(&x, s + i, 8);
		if ((((x - 0x20 * ones) | (x + ones) | x) & high) == 0) {
			memcpy(out + i, &x, 8);
			continue;
		}
		for (size_t k = i; k < i + 8; k++) {
			unsigned char c = (unsigned char)s[k];

			out[k] = c >= 0x20 && c < 0x7f ? (char)c : '?';
		}
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
}

size_t policy_printable_put(char *out, size_t room, const char *s, size_t max)
{
	size_t len, n;

	if (s == NULL)
		return 0;
	if (max == 0)
		max = (size_t)-1;   /* as policy_sanitize: no limit */
	len = strlen(s);
	n = len < max ? len : max;
	if (n > room)
		n = room;
	copy_printable(out, s, n);
	if (len > n && n == max)
		for (int k = 0; k < 3 && n < room; k++)
			out[n++] = '.';
	return n;
}

const char *policy_printable(const char *s, char *buf, size_t len, size_t max)
{
	if (len == 0)
		return buf;
	buf[policy_printable_put(buf, len - 1, s, max)] = '\0';
	return buf;
}

size_t policy_tenths(char out[32], double v)
{
	double t = v * 10.0, frac;
	char num[32], *p = num + sizeof(num);
	uint64_t n;
	size_t len;

	/* below 1e9 tenths, t is within 1e-7 of v * 10: its rounding is
	 * printf's unless it is that close to a tie */
	n = t >= 0 && t < 1e9 ? (uint64_t)t : 0;
	frac = t - (double)n;
	if (!(t >= 0 && t < 1e9) || (frac > 0.5 - 1e-6 && frac < 0.5 + 1e-6)) {
		int w = snprintf(out, 32, "%.1f", v);

		return w > 0 && w < 32 ? (size_t)w : 0;
	}
	n += frac > 0.5;
	*--p = (char)('0' + n % 10);
	*--p = '.';
	n /= 10;
	do {
		*--p = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	len = (size_t)(num + sizeof(num) - p);
	memcpy(out, p, len);
	return len;
}

policy_verdict_t policy_scope_verdict(const policy_config_t *c, bool helo,
	spf_result_t r, bool null_sender, bool listed)
{
	policy_reject_t pol = helo ? c->helo_reject : c->mfrom_reject;
	bool reject = false;

	if (listed && pol != POLICY_REJ_NO_CHECK)
		pol = POLICY_REJ_NOT_PASS;   /* Reject_Not_Pass_Domains */
	switch (pol) {
	case POLICY_REJ_FALSE:
	case POLICY_REJ_NO_CHECK:
		return POLICY_PREPEND;
	case POLICY_REJ_NOT_PASS:
		reject = r == SPF_RESULT_NEUTRAL;
		/* fall through */
	case POLICY_REJ_SOFTFAIL:
		reject = reject || r == SPF_RESULT_SOFTFAIL;
		/* fall through */
	case POLICY_REJ_FAIL:
		reject = reject || r == SPF_RESULT_FAIL;
		break;
	case POLICY_REJ_NULL:
		reject = null_sender && r == SPF_RESULT_FAIL;
		break;
	}
	if (reject)
		return POLICY_REJECT;
	if (r == SPF_RESULT_TEMPERROR && c->temperror_defer)
		return POLICY_DEFER;
	if (r == SPF_RESULT_PERMERROR && c->permerror_reject)
		return POLICY_REJECT;
	return POLICY_PREPEND;
}

/* RFC 3986 unreserved (and '@'), the rest %XX */
static void url_part(spf_buf_t *b, const char *s)
{
	spf_buf_percent_encode(b, s, strlen(s), "@");
}

static void spf_text(spf_buf_t *b, const policy_ident_t *id, bool listed)
{
	const char *res = spf_result_str(id->result);

	if (id->result == SPF_RESULT_FAIL && id->explanation != NULL && !listed) {
		spf_buf_puts(b, id->explanation);
	} else if ((id->result == SPF_RESULT_PERMERROR || id->result == SPF_RESULT_TEMPERROR) &&
		   id->problem != NULL) {
		spf_buf_puts(b, "SPF ");
		spf_buf_puts(b, res);
		spf_buf_puts(b, ": ");
		spf_buf_puts(b, id->problem);
	} else {
		spf_buf_puts(b, "Receiver policy for SPF ");
		spf_buf_putc(b, (char)(res[0] - 'a' + 'A'));
		spf_buf_puts(b, res + 1);
	}
}

/* The action for a reject or defer of identity helo/mfrom. */
static char *reply(const policy_config_t *c, const policy_facts_t *f, bool helo,
	policy_verdict_t v, bool listed)
{
	const policy_ident_t *id = helo ? &f->helo_id : &f->mfrom_id;
	const char *tmpl = c->reason_message ? c->reason_message : POLICY_DEFAULT_REASON;
	bool err = id->result == SPF_RESULT_PERMERROR || id->result == SPF_RESULT_TEMPERROR;
	const char *code;
	spf_buf_t text;
	char *s = NULL;
	size_t n;

	spf_buf_init(&text, 8192);
	for (const char *p = tmpl; *p; ) {
		size_t run = strcspn(p, "{");

		if (run > 0) {
			spf_buf_append(&text, p, run);
			p += run;
		} else if (strncmp(p, "{rejectdefer}", 13) == 0) {
			spf_buf_puts(&text, v == POLICY_REJECT ? "rejected" : "deferred");
			p += 13;
		} else if (strncmp(p, "{spf}", 5) == 0) {
			spf_text(&text, id, listed);
			p += 5;
		} else if (strncmp(p, "{url}", 5) == 0) {
			/* openspf.net is gone; open-spf.org serves the same page */
			spf_buf_puts(&text, helo ? "https://www.open-spf.org/Why?s=helo;id=" :
				"https://www.open-spf.org/Why?s=mfrom;id=");
			if (helo)
				url_part(&text, f->helo);
			else if (*f->sender != '\0')
				url_part(&text, f->sender);
			else {
				spf_buf_puts(&text, "postmaster@");
				url_part(&text, f->helo);
			}
			spf_buf_puts(&text, ";ip=");
			url_part(&text, f->client_address);
			spf_buf_puts(&text, ";r=");
			url_part(&text, c->hide_receiver ? "<UNKNOWN>" : f->recipient);
			p += 5;
		} else {
			spf_buf_putc(&text, '{');
			p++;
		}
	}
	if (v == POLICY_REJECT)
		code = c->enhanced_codes ? (err ? "550 5.7.24 " : "550 5.7.23 ") : "550 ";
	else
		code = c->enhanced_codes ? "DEFER_IF_PERMIT 4.7.24 " : "DEFER_IF_PERMIT ";
	/* the codes, then the text as policy_sanitize() gives it: at most
	 * MAX_TEXT bytes and "..." */
	n = strlen(code);
	if (text.err == SPF_OK && (s = spf_malloc(n + MAX_TEXT + 4)) != NULL) {
		memcpy(s, code, n);
		n += policy_printable_put(s + n, MAX_TEXT + 3, spf_buf_cstr(&text), MAX_TEXT);
		s[n] = '\0';
	}
	spf_buf_finish(&text);
	return s;
}

static const char *domain_of(const char *sender, const char *helo)
{
	const char *at = strrchr(sender, '@');

	if (*sender == '\0')
		return helo;
	return at ? at + 1 : sender;
}

/* Final verdict v for identity helo/mfrom. */
static policy_step_t final(const policy_config_t *c, const policy_facts_t *f,
	bool helo, policy_verdict_t v, bool listed, policy_decision_t *d)
{
	d->verdict = v;
	d->header_of = helo ? SPF_IDENTITY_HELO : SPF_IDENTITY_MFROM;
	if (v == POLICY_REJECT || v == POLICY_DEFER) {
		d->action = reply(c, f, helo, v, listed);
		if (d->action == NULL)
			d->verdict = POLICY_DUNNO;
	} else if (v == POLICY_RESTRICTION) {
		d->action = spf_strdup(helo ? c->helo_pass_restriction :
			c->mfrom_pass_restriction);
		if (d->action == NULL)
			d->verdict = POLICY_DUNNO;
	}
	if (!c->enforce && d->verdict != POLICY_PREPEND && d->verdict != POLICY_DUNNO) {
		d->verdict = POLICY_PREPEND;
		d->test_only_dropped = true;
	}
	if (d->verdict == POLICY_PREPEND && c->header_type == POLICY_HDR_NONE)
		d->verdict = POLICY_DUNNO;
	return POLICY_FINAL;
}

policy_step_t policy_decide(const policy_config_t *c, const policy_facts_t *f,
	policy_decision_t *d)
{
	bool null = *f->sender == '\0';
	bool have_helo = *f->helo != '\0';
	bool listed;
	policy_verdict_t v;

	memset(d, 0, sizeof(*d));
	if (null && !have_helo)
		return POLICY_FINAL;   /* nothing to check: dunno */
	if (have_helo && c->helo_reject != POLICY_REJ_NO_CHECK) {
		if (!f->helo_id.checked)
			return POLICY_CHECK_HELO;
		listed = policy_name_listed(c->not_pass_domains, c->nnot_pass_domains, f->helo);
		v = policy_scope_verdict(c, true, f->helo_id.result, null, listed);
		if (v == POLICY_REJECT || v == POLICY_DEFER)
			return final(c, f, true, v, listed, d);
		if (f->helo_id.result == SPF_RESULT_PASS && c->helo_pass_restriction != NULL)
			return final(c, f, true, POLICY_RESTRICTION, listed, d);
		if (null)
			return final(c, f, true, POLICY_PREPEND, listed, d);
	}
	if (c->mfrom_reject == POLICY_REJ_NO_CHECK) {
		if (f->helo_id.checked)
			return final(c, f, true, POLICY_PREPEND, false, d);
		return POLICY_FINAL;
	}
	if (!f->mfrom_id.checked)
		return POLICY_CHECK_MFROM;
	listed = policy_name_listed(c->not_pass_domains, c->nnot_pass_domains,
		domain_of(f->sender, f->helo));
	v = policy_scope_verdict(c, false, f->mfrom_id.result, null, listed);
	if (v == POLICY_REJECT || v == POLICY_DEFER)
		return final(c, f, false, v, listed, d);
	if (f->mfrom_id.result == SPF_RESULT_PASS && c->mfrom_pass_restriction != NULL)
		return final(c, f, false, POLICY_RESTRICTION, listed, d);
	if (f->mfrom_id.result == SPF_RESULT_NONE && f->helo_id.checked &&
	    f->helo_id.result != SPF_RESULT_NONE)
		return final(c, f, true, POLICY_PREPEND, listed, d);
	return final(c, f, false, POLICY_PREPEND, listed, d);
}

void policy_decision_finish(policy_decision_t *d)
{
	spf_free(d->action);
	d->action = NULL;
}
