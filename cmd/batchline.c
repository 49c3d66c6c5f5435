/*
 * batchline.c - one input line of `spfcheck batch`: "IP SENDER [HELO
 * [FROM]]" split into its fields and each checked (issue 6; FROM, the
 * RFC 5322.From of the DMARC view, issue 16).  A file of its own so that
 * the batchline fuzz target links the parser without the rest of batch.
 *
 * DESCRIPTION
 *	Fields are separated by blanks, except inside an RFC 5321
 *	Quoted-string.  SENDER "" (or <>) is the null sender.  With four
 *	fields, HELO "-" stands for "no HELO name" (a line that has a From
 *	but no HELO); with three, "-" is a HELO name as before.  FROM is
 *	an address, <address> or a bare domain; its domain, as an A-label,
 *	starts the DMARC view.
 *
 * DIAGNOSTICS
 *	A line that cannot be used comes back false with a one-line reason
 *	naming the field ("the IP field: ...", "the FROM field has no
 *	domain ..."); batch writes it in the line's place.
 */
#include "cmd.h"

#include <string.h>

/*
 * The next field of *p: blanks (space, tab, CR, LF) end it, except
 * inside an RFC 5321 Quoted-string ("john smith"@example.com: the quotes
 * stay, a backslash escapes the next byte).  NULL when no field is left.
 */
char *cmd_batch_field(char **p)
{
	char *s = *p, *start;
	bool quoted = false;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	if (*s == '\0')
		return NULL;
	start = s;
	/* most fields hold no quote: up to the first blank or quote at once */
	s += strcspn(s, " \t\r\n\"");
	for (; *s != '\0'; s++) {
		if (quoted && *s == '\\' && s[1] != '\0')
			s++;
		else if (*s == '"')
			quoted = !quoted;
		else if (!quoted && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
			break;
	}
	if (*s != '\0')
		*s++ = '\0';
	*p = s;
	return start;
}

bool cmd_batch_copy_line(char **buf, size_t *cap, const char *line, size_t len)
{
	if (len >= *cap) {
		size_t want = len + 1 < 128 ? 128 : len + 1;
		char *t = spf_realloc(*buf, want);

		if (t == NULL)
			return false;
		*buf = t;
		*cap = want;
	}
	memcpy(*buf, line, len);
	(*buf)[len] = '\0';
	return true;
}

bool cmd_batch_parse_line(char *text, struct cmd_batch_line *out, char *why,
	size_t whylen)
{
	char *f[5] = { 0 }, *rest = text, *tok;
	const char *problem;
	char buf[256];
	int n = 0;

	memset(out, 0, sizeof(*out));
	while ((tok = cmd_batch_field(&rest)) != NULL) {
		if (n == 5)
			break;
		f[n++] = tok;
	}
	if (n < 2) {
		snprintf(why, whylen, "a line needs IP SENDER [HELO [FROM]]");
		return false;
	}
	if (n > 4) {
		snprintf(why, whylen, "too many fields: a line is IP SENDER [HELO [FROM]]");
		return false;
	}
	/* the IP field itself is in the line's output: the reason does not
	 * quote it (quoting escaped bytes again garbles them) */
	if ((problem = spf_client_addr_problem(f[0], &out->ip)) != NULL) {
		snprintf(why, whylen, "the IP field: %s", problem);
		return false;
	}
	out->ip_text = f[0];
	if (strcmp(f[1], "\"\"") == 0)
		f[1] = (char *)"";
	out->sender_text = f[1];
	/* IP SENDER - FROM: a From, no HELO name */
	if (n == 4 && strcmp(f[2], "-") == 0)
		f[2] = NULL;
	/* both read at once, as the jobs then take them (issue 13); when
	 * that refuses, each on its own says which field and why */
	if (cmd_identities(f[1], f[2], &out->parts, &out->id_arena, why, whylen)) {
		out->sender = out->parts.sender;
		out->helo = f[2] != NULL ?
			(out->parts.helo != NULL ? out->parts.helo : "") : NULL;
	} else {
		out->sender = cmd_sender(f[1], &out->owned_sender, why, whylen);
		if (out->sender == NULL)
			goto fail;
		out->helo = f[2] != NULL ?
			cmd_helo(f[2], &out->owned_helo, why, whylen) : NULL;
		if (f[2] != NULL && out->helo == NULL)
			goto fail;
	}
	if (n == 4) {
		out->from_text = f[3];
		out->from = cmd_dmarc_from(f[3], "the FROM field",
			&out->owned_from, why, whylen);
		if (out->from == NULL)
			goto fail;
		if (!spf_dmarc_domain_ok(out->from)) {
			snprintf(why, whylen, "the FROM field: '%s' is not a domain name",
				cmd_printable(out->from, buf, sizeof(buf)));
			goto fail;
		}
	}
	return true;
fail:
	spf_arena_destroy(out->id_arena);
	out->id_arena = NULL;
	spf_free(out->owned_sender);
	spf_free(out->owned_helo);
	spf_free(out->owned_from);
	out->owned_sender = out->owned_helo = out->owned_from = NULL;
	out->from = NULL;
	return false;
}
