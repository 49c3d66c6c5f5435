/*
 * providers.c - the names of well-known mail providers, by the include
 * domain they ask customers to publish (data/providers.txt), for
 * `spfcheck tree`.
 *
 * DESCRIPTION
 *	The file holds one entry a line: a domain, white space, a display
 *	name (the rest of the line, trailing white space removed).  Lines
 *	starting with '#' (after optional white space) and blank lines are
 *	skipped.  Which file: the --providers option, else the environment
 *	variable SPFCHECK_PROVIDERS, else the installed
 *	DATADIR/spfcheck/providers.txt (a missing installed file means no
 *	names; a missing named file is an error).  A lookup is an exact,
 *	case-insensitive match of the domain (a trailing dot ignored).
 *
 * DIAGNOSTICS
 *	A bad line stops the load with one message "FILE:LINE: what is
 *	wrong": a domain that is not a host name, no display name, a control
 *	byte, a line over 512 bytes, a domain listed twice, more than 10,000
 *	entries; a file over 1 MiB or with a NUL byte is refused whole.
 */
#include "cmd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifndef SPFCHECK_DATADIR
#define SPFCHECK_DATADIR "/usr/local/share/spfcheck"
#endif

#define LINE_MAX_BYTES 512
#define NAME_MAX_BYTES 100
#define MAX_ENTRIES 10000
#define FILE_MAX_BYTES (1u << 20)

struct provider {
	char *domain;   /* lower case, no trailing dot */
	char *name;
};

struct cmd_providers {
	struct provider *v;
	size_t n, cap;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* A host name as SPF targets are: labels of letters, digits, '-' and
 * '_' (as in _spf.google.com), 1-63 bytes each, 253 in all. */
static bool domain_ok(const char *s, size_t n)
{
	size_t label = 0;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

/* The entry for domain d[0..n), or NULL. */
static const struct provider *find(const struct cmd_providers *p,
	const char *d, size_t n)
{
	for (size_t i = 0; p != NULL && i < p->n; i++) {
		const char *e = p->v[i].domain;
		size_t k = 0;

		while (k < n && e[k] != '\0' && lower(d[k]) == e[k])
			k++;
		if (k == n && e[k] == '\0')
			return &p->v[i];
	}
	return NULL;
}

static char *dup_lower(const char *s, size_t n, bool fold)
{
	char *d = spf_malloc(n + 1);

	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		d[i] = fold ? lower(s[i]) : s[i];
	d[n] = '\0';
	return d;
}

/* One line (without its newline).  Returns 1 added or skipped, 0 bad
 * (why filled), -1 out of memory. */
static int parse_line(struct cmd_providers *p, const char *s, size_t n,
	char *why, size_t whylen)
{
	size_t i = 0, ds, dn, ns, ne;
	struct provider *e;

	if (n > LINE_MAX_BYTES) {
		snprintf(why, whylen, "line longer than %d bytes", LINE_MAX_BYTES);
		return 0;
	}
	for (size_t k = 0; k < n; k++)
		if (((unsigned char)s[k] < 0x20 && s[k] != '\t') ||
		    (unsigned char)s[k] == 0x7f) {
			snprintf(why, whylen, "control byte 0x%02X at column %zu",
			    (unsigned char)s[k], k + 1);
			return 0;
		}
	while (i < n && is_space(s[i]))
		i++;
	if (i == n || s[i] == '#')
		return 1;
	ds = i;
	while (i < n && !is_space(s[i]))
		i++;
	dn = i - ds;
	if (dn > 1 && s[ds + dn - 1] == '.')
		dn--;
	if (!domain_ok(s + ds, dn)) {
		snprintf(why, whylen, "'%.*s' is not a domain name", (int)(i - ds
		    > 64 ? 64 : i - ds), s + ds);
		return 0;
	}
	while (i < n && is_space(s[i]))
		i++;
	ns = i;
	ne = n;
	while (ne > ns && is_space(s[ne - 1]))
		ne--;
	if (ne == ns) {
		snprintf(why, whylen, "no display name after '%.*s'", (int)dn,
		    s + ds);
		return 0;
	}
	if (ne - ns > NAME_MAX_BYTES) {
		snprintf(why, whylen, "display name longer than %d bytes",
		    NAME_MAX_BYTES);
		return 0;
	}
	if (find(p, s + ds, dn) != NULL) {
		snprintf(why, whylen, "%.*s is listed twice", (int)dn, s + ds);
		return 0;
	}
	if (p->n >= MAX_ENTRIES) {
		snprintf(why, whylen, "more than %d entries", MAX_ENTRIES);
		return 0;
	}
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 32;
		struct provider *nv = spf_realloc(p->v, nc * sizeof(*nv));

		if (nv == NULL)
			return -1;
		p->v = nv;
		p->cap = nc;
	}
	e = &p->v[p->n];
	e->domain = dup_lower(s + ds, dn, true);
	e->name = dup_lower(s + ns, ne - ns, false);
	if (e->domain == NULL || e->name == NULL) {
		spf_free(e->domain);
		spf_free(e->name);
		return -1;
	}
	p->n++;
	return 1;
}

struct cmd_providers *cmd_providers_parse(const char *text, size_t len,
	const char *file, char *why, size_t whylen)
{
	struct cmd_providers *p = spf_calloc(1, sizeof(*p));
	size_t pos = 0, line = 0;
	char msg[256];

	if (p == NULL) {
		snprintf(why, whylen, "%s: out of memory", file);
		return NULL;
	}
	if (len > FILE_MAX_BYTES || memchr(text, '\0', len) != NULL) {
		snprintf(why, whylen, "%s: %s", file, len > FILE_MAX_BYTES ?
		    "larger than 1 MiB" : "a NUL byte: not a text file");
		cmd_providers_free(p);
		return NULL;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		int r;

		line++;
		if (n > 0 && text[pos + n - 1] == '\r')
			r = parse_line(p, text + pos, n - 1, msg, sizeof(msg));
		else
			r = parse_line(p, text + pos, n, msg, sizeof(msg));
		if (r <= 0) {
			if (r < 0)
				snprintf(why, whylen, "%s: out of memory", file);
			else
				snprintf(why, whylen, "%s:%zu: %s", file, line, msg);
			cmd_providers_free(p);
			return NULL;
		}
		pos += n + (nl != NULL);
	}
	return p;
}

bool cmd_providers_load(const char *path, struct cmd_providers **out)
{
	const char *env = getenv("SPFCHECK_PROVIDERS");
	bool named = path != NULL || (env != NULL && *env != '\0');
	char buf[1024], *text = NULL, why[600];
	size_t len = 0;
	FILE *f;

	*out = NULL;
	if (path == NULL)
		path = named ? env : SPFCHECK_DATADIR "/providers.txt";
	f = fopen(path, "rb");
	if (f == NULL) {
		if (!named && errno == ENOENT) {
			/* not installed: no names, an empty list */
			*out = spf_calloc(1, sizeof(**out));
			if (*out == NULL)
				cmd_error("out of memory");
			return *out != NULL;
		}
		cmd_error("cannot read the provider list %s: %s",
		    cmd_printable(path, buf, sizeof(buf)), strerror(errno));
		return false;
	}
	for (;;) {
		char chunk[8192];
		size_t got = fread(chunk, 1, sizeof(chunk), f);
		char *nt;

		if (got == 0)
			break;
		if (len + got > FILE_MAX_BYTES + 1) {
			got = FILE_MAX_BYTES + 1 - len;
			if (got == 0)
				break;
		}
		nt = spf_realloc(text, len + got + 1);
		if (nt == NULL) {
			spf_free(text);
			fclose(f);
			cmd_error("out of memory");
			return false;
		}
		text = nt;
		memcpy(text + len, chunk, got);
		len += got;
	}
	if (ferror(f)) {
		cmd_error("cannot read the provider list %s",
		    cmd_printable(path, buf, sizeof(buf)));
		spf_free(text);
		fclose(f);
		return false;
	}
	fclose(f);
	*out = cmd_providers_parse(text ? text : "", len,
	    cmd_printable(path, buf, sizeof(buf)), why, sizeof(why));
	spf_free(text);
	if (*out == NULL)
		cmd_error("%s", why);
	return *out != NULL;
}

const char *cmd_provider_name(const struct cmd_providers *p, const char *domain)
{
	size_t n;
	const struct provider *e;

	if (p == NULL || domain == NULL)
		return NULL;
	n = strlen(domain);
	if (n > 1 && domain[n - 1] == '.')
		n--;
	e = find(p, domain, n);
	return e != NULL ? e->name : NULL;
}

size_t cmd_providers_count(const struct cmd_providers *p)
{
	return p != NULL ? p->n : 0;
}

void cmd_providers_free(struct cmd_providers *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		spf_free(p->v[i].domain);
		spf_free(p->v[i].name);
	}
	spf_free(p->v);
	spf_free(p);
}
