/*
 * record.c - a DMARC record (RFC 9989 §4.7, §4.8) read from untrusted
 * bytes: whether it is one at all, its tags, the effective policy, and
 * what a linter says of the record alone, each finding with the byte
 * span it concerns.
 *
 * DESCRIPTION
 *	A TXT record is a DMARC record when it begins with "v", optional
 *	WSP, "=", optional WSP, exactly "DMARC1" (case-sensitive: %s in the
 *	ABNF), then ";" (WSP allowed before it) or the end.  Anything else
 *	is not a DMARC record and is ignored by receivers; when it looks
 *	meant to be one (leading whitespace, "v=dmarc1", "v=DMARC10", no
 *	";") it is flagged as a look-alike (DM-02) so that lint can say why
 *	it is ignored.
 *
 *	After the version come tags, "name = value" separated by ";".  A
 *	value is printable ASCII other than ";" (WSP inside it is kept, the
 *	WSP around it is not).  Known tags are read case-insensitively
 *	(the ABNF's quoted literals are); an upper-case tag name is noted
 *	as a portability problem.  Unknown tags, and the tags RFC 9989
 *	removed (pct, rf, ri), are ignored.  A bad value of an optional
 *	tag (adkim, aspf, t, psd, fo, a rua/ruf URI) is replaced by the
 *	default.  A missing or invalid p, or an invalid sp or np, makes the
 *	record p=none when rua holds a valid URI and unusable otherwise
 *	(§4.7, the one rule that turns a record off).
 *
 * DIAGNOSTICS
 *	Problems are findings (spf_lint_finding_t) with rule ids DM-02 to
 *	DM-23 (doc/lint-rules.md), in record order, each naming the bytes
 *	with control and non-ASCII bytes as \xNN.  Reading stops at
 *	SPF_DMARC_RECORD_MAX bytes.  Only running out of memory fails.
 */
#include "internal.h"

#include <string.h>

#define SEC_VERSION "RFC 9989 §4.8"
#define SEC_TAGS "RFC 9989 §4.7"

/* The most bytes of a tag name or value quoted in a message. */
#define QUOTE_MAX 40

struct node {
	struct node *next;
	void *item;
};

struct parse {
	spf_arena_t *arena;
	const char *s;
	size_t len;
	spf_dmarc_record_t *rec;
	struct node *problems, **problems_tail;
	size_t nproblems;
	struct node *tags, **tags_tail;
	struct node *rua, **rua_tail, *ruf, **ruf_tail;
	bool seen_pct0, seen_pct;
	bool failed;               /* out of memory */
};

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool append(struct parse *ps, struct node ***tail, void *item)
{
	struct node *n = spf_arena_alloc(ps->arena, sizeof(*n));

	if (n == NULL) {
		ps->failed = true;
		return false;
	}
	n->item = item;
	**tail = n;
	*tail = &n->next;
	return true;
}

/* s[0..n) for a message: escaped, shortened. */
static const char *quote(struct parse *ps, const char *s, size_t n)
{
	spf_buf_t b;
	const char *q;

	spf_buf_init(&b, 4 * QUOTE_MAX + 8);
	spf_buf_escape(&b, s, n, SPF_ESC_HEX, QUOTE_MAX);
	q = spf_arena_strdup(ps->arena, spf_buf_cstr(&b));
	spf_buf_finish(&b);
	if (q == NULL)
		ps->failed = true;
	return q != NULL ? q : "";
}

static void problem(struct parse *ps, const char *rule, spf_lint_severity_t sev,
	const char *section, size_t off, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static void problem(struct parse *ps, const char *rule, spf_lint_severity_t sev,
	const char *section, size_t off, size_t len, const char *fmt, ...)
{
	spf_lint_finding_t *f = spf_arena_alloc(ps->arena, sizeof(*f));
	spf_buf_t b;
	va_list ap;

	if (f == NULL) {
		ps->failed = true;
		return;
	}
	spf_buf_init(&b, 1024);
	va_start(ap, fmt);
	spf_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	f->message = spf_arena_strdup(ps->arena, spf_buf_cstr(&b));
	spf_buf_finish(&b);
	if (f->message == NULL) {
		ps->failed = true;
		return;
	}
	f->rule = rule;
	f->severity = sev;
	f->section = section;
	if (off > ps->len)
		off = ps->len;
	if (off + len > ps->len)
		len = ps->len - off;
	f->has_range = len > 0;
	f->offset = off;
	f->len = len;
	if (append(ps, &ps->problems_tail, f))
		ps->nproblems++;
}

/* ---- the version (D.2 step 1) ---- */

/* Does the text begin with v=DMARC1 then ';' or the end?  *end gets the
 * offset after "DMARC1". */
static bool version_ok(const char *s, size_t len, size_t *end)
{
	size_t i = 0;

	if (len == 0 || (s[0] != 'v' && s[0] != 'V'))
		return false;
	i = 1;
	while (i < len && is_wsp(s[i]))
		i++;
	if (i >= len || s[i] != '=')
		return false;
	i++;
	while (i < len && is_wsp(s[i]))
		i++;
	if (len - i < 6 || memcmp(s + i, "DMARC1", 6) != 0)
		return false;
	i += 6;
	*end = i;
	while (i < len && is_wsp(s[i]))
		i++;
	return i == len || s[i] == ';';
}

/* Not a DMARC record: does it look meant to be one?  Says why. */
static void lookalike(struct parse *ps)
{
	const char *s = ps->s;
	size_t len = ps->len, i = 0, v;

	while (i < len && (is_wsp(s[i]) || s[i] == '\r' || s[i] == '\n'))
		i++;
	v = i;
	if (i >= len || (s[i] != 'v' && s[i] != 'V'))
		return;
	i++;
	while (i < len && is_wsp(s[i]))
		i++;
	if (i >= len || s[i] != '=')
		return;
	i++;
	while (i < len && is_wsp(s[i]))
		i++;
	if (len - i < 5 || !spf_strncaseeq(s + i, "dmarc", 5))
		return;
	ps->rec->lookalike = true;
	if (v > 0) {
		size_t end;

		if (version_ok(s + v, len - v, &end)) {
			problem(ps, "DM-02", SPF_LINT_ERROR, SEC_VERSION, 0, v,
				"the record begins with whitespace: receivers do not "
				"see it as a DMARC record and ignore it");
			return;
		}
	}
	if (len - i >= 6 && memcmp(s + i, "DMARC1", 6) != 0 &&
	    spf_strncaseeq(s + i, "dmarc1", 6))
		problem(ps, "DM-02", SPF_LINT_ERROR, SEC_VERSION, i, 6,
			"the version is '%s': it must be exactly DMARC1 (upper "
			"case), or receivers ignore the record",
			quote(ps, s + i, 6));
	else if (len - i > 6 && memcmp(s + i, "DMARC1", 6) == 0 &&
	    !is_wsp(s[i + 6]) && s[i + 6] != ';')
		problem(ps, "DM-02", SPF_LINT_ERROR, SEC_VERSION, i,
			len - i < 7 ? len - i : 7,
			"the version 'v=DMARC1' runs on into '%s': receivers "
			"ignore the record", quote(ps, s + i + 6, 1));
	else if (len - i > 6 && memcmp(s + i, "DMARC1", 6) == 0)
		problem(ps, "DM-02", SPF_LINT_ERROR, SEC_VERSION, i + 6, 1,
			"a ';' must follow v=DMARC1: receivers ignore the record");
	else
		problem(ps, "DM-02", SPF_LINT_ERROR, SEC_VERSION, v, len - v,
			"this is not a DMARC version: the record must begin "
			"with v=DMARC1;");
}

/* ---- tag values ---- */

static bool policy_value(const char *v, spf_dmarc_policy_t *out)
{
	if (spf_streq_nocase(v, "none"))
		*out = SPF_DMARC_NONE;
	else if (spf_streq_nocase(v, "quarantine"))
		*out = SPF_DMARC_QUARANTINE;
	else if (spf_streq_nocase(v, "reject"))
		*out = SPF_DMARC_REJECT;
	else
		return false;
	return true;
}

/* One of the single letters in allowed, case-insensitive? */
static bool letter_value(const char *v, const char *allowed, char *out)
{
	if (v[0] == '\0' || v[1] != '\0')
		return false;
	for (const char *a = allowed; *a; a++)
		if (spf_lower(v[0]) == *a) {
			*out = *a;
			return true;
		}
	return false;
}

/* fo: 0, 1, d, s joined by ':' (WSP allowed around the colons). */
static bool fo_value(const char *v, bool *both)
{
	bool zero = false, one = false, any = false;

	*both = false;
	for (const char *p = v; ; ) {
		while (is_wsp(*p))
			p++;
		if (*p == '0')
			zero = true;
		else if (*p == '1')
			one = true;
		else if (spf_lower(*p) != 'd' && spf_lower(*p) != 's')
			return false;
		any = true;
		p++;
		while (is_wsp(*p))
			p++;
		if (*p == '\0')
			break;
		if (*p != ':')
			return false;
		p++;
	}
	*both = zero && one;
	return any;
}

/* Is s[0..n) a URI we can say is well-formed: scheme ":" something,
 * and for mailto an address with a local-part and a domain?  why
 * names the problem. */
static bool uri_ok(const char *s, size_t n, const char **why)
{
	size_t i = 0;

	if (n == 0) {
		*why = "empty";
		return false;
	}
	if (!is_alpha(s[0])) {
		*why = "no URI scheme (such as mailto:)";
		return false;
	}
	while (i < n && (is_alpha(s[i]) || (s[i] >= '0' && s[i] <= '9') ||
	    s[i] == '+' || s[i] == '-' || s[i] == '.'))
		i++;
	if (i >= n || s[i] != ':') {
		*why = "no URI scheme (such as mailto:)";
		return false;
	}
	if (i + 1 == n) {
		*why = "nothing after the scheme";
		return false;
	}
	if (i == 6 && spf_strncaseeq(s, "mailto", 6)) {
		const char *at = memchr(s + 7, '@', n - 7);

		if (at == NULL || at == s + 7 || at == s + n - 1) {
			*why = "a mailto: URI needs an address, local@domain";
			return false;
		}
		if (memchr(at + 1, '.', (size_t)(s + n - at - 1)) == NULL) {
			*why = "the address's domain has a single label";
			return false;
		}
	}
	return true;
}

/* rua / ruf: URIs separated by ',' (§4.7; ',' and '!' inside a URI
 * must be %-encoded). */
static size_t read_uris(struct parse *ps, const spf_dmarc_tag_t *t,
	struct node ***tail, bool *any_bad)
{
	const char *v = ps->s + t->value_offset;
	size_t n = t->value_len, i = 0, good = 0;

	*any_bad = false;
	while (i <= n) {
		size_t from = i, to, end;
		const char *bang, *why = NULL;

		while (i < n && v[i] != ',')
			i++;
		end = i;
		to = i;
		while (from < to && is_wsp(v[from]))
			from++;
		while (to > from && is_wsp(v[to - 1]))
			to--;
		bang = memchr(v + from, '!', to - from);
		if (bang != NULL) {
			size_t b = (size_t)(bang - v);

			problem(ps, "DM-10", SPF_LINT_INFO, SEC_TAGS,
				t->value_offset + b, to - b,
				"the size limit '%s' is obsolete: RFC 9989 "
				"reporters ignore it", quote(ps, v + b, to - b));
			to = b;
		}
		if (uri_ok(v + from, to - from, &why)) {
			const char *u = spf_arena_strndup(ps->arena, v + from,
				to - from);

			if (u == NULL || !append(ps, tail, (void *)u)) {
				ps->failed = true;
				return good;
			}
			good++;
			if (!(to - from >= 7 && spf_strncaseeq(v + from, "mailto:", 7)))
				problem(ps, "DM-05", SPF_LINT_INFO, SEC_TAGS,
					t->value_offset + from, to - from,
					"%s: receivers must support mailto: only "
					"and ignore other schemes",
					quote(ps, v + from, to - from));
		} else {
			*any_bad = true;
			problem(ps, "DM-05", SPF_LINT_WARNING, SEC_TAGS,
				t->value_offset + from, to - from,
				"'%s' in %s is not a valid URI (%s): it is ignored",
				quote(ps, v + from, to - from), t->name, why);
		}
		i = end + 1;
	}
	return good;
}

/* ---- the tags ---- */

static const char *const known[] = {
	"v", "p", "sp", "np", "adkim", "aspf", "t", "psd", "rua", "ruf",
	"fo", NULL
};

static bool tag_known(const char *name)
{
	for (size_t i = 0; known[i] != NULL; i++)
		if (strcmp(name, known[i]) == 0)
			return true;
	return false;
}

/* A known tag one letter away from name (a typo), or NULL. */
static const char *near_tag(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; known[i] != NULL; i++) {
		const char *k = known[i];
		size_t kn = strlen(k), diff = 0;

		if (kn != n || n < 2)
			continue;
		for (size_t j = 0; j < n; j++)
			diff += k[j] != name[j];
		if (diff == 1)
			return k;
	}
	return NULL;
}

/* The value of a tag, interpreted into rec (one tag, known or not). */
static void tag_value(struct parse *ps, const spf_dmarc_tag_t *t)
{
	spf_dmarc_record_t *rec = ps->rec;
	const char *name = t->name, *v = t->value;
	size_t vo = t->value_offset, vl = t->value_len;
	char c;

	if (strcmp(name, "p") == 0 || strcmp(name, "sp") == 0 ||
	    strcmp(name, "np") == 0) {
		spf_dmarc_policy_t pol;
		bool *bad = name[0] == 'p' ? &rec->p_bad :
			name[0] == 's' ? &rec->sp_bad : &rec->np_bad;
		spf_dmarc_policy_t *dst = name[0] == 'p' ? &rec->p :
			name[0] == 's' ? &rec->sp : &rec->np;

		if (policy_value(v, &pol)) {
			*dst = pol;
		} else {
			*bad = true;
			problem(ps, "DM-04", SPF_LINT_ERROR, SEC_TAGS, vo, vl,
				"%s=%s is not a policy (none, quarantine or reject)",
				name, quote(ps, v, vl));
		}
	} else if (strcmp(name, "adkim") == 0 || strcmp(name, "aspf") == 0) {
		if (letter_value(v, "rs", &c)) {
			if (name[1] == 'd')
				rec->adkim_strict = c == 's';
			else
				rec->aspf_strict = c == 's';
		} else {
			problem(ps, "DM-05", SPF_LINT_WARNING, SEC_TAGS, vo, vl,
				"%s=%s is not r or s: the default r (relaxed) applies",
				name, quote(ps, v, vl));
		}
	} else if (strcmp(name, "t") == 0) {
		if (letter_value(v, "yn", &c))
			rec->testing = c == 'y';
		else
			problem(ps, "DM-05", SPF_LINT_WARNING, SEC_TAGS, vo, vl,
				"t=%s is not y or n: the default n applies",
				quote(ps, v, vl));
	} else if (strcmp(name, "psd") == 0) {
		if (letter_value(v, "ynu", &c))
			rec->psd = c;
		else
			problem(ps, "DM-05", SPF_LINT_WARNING, SEC_TAGS, vo, vl,
				"psd=%s is not y, n or u: the default u applies",
				quote(ps, v, vl));
	} else if (strcmp(name, "fo") == 0) {
		bool both;

		rec->has_fo = true;
		if (!fo_value(v, &both))
			problem(ps, "DM-05", SPF_LINT_WARNING, SEC_TAGS, vo, vl,
				"fo=%s is not 0, 1, d and s joined by ':': the "
				"default 0 applies", quote(ps, v, vl));
		else if (both)
			problem(ps, "DM-05", SPF_LINT_WARNING, SEC_TAGS, vo, vl,
				"fo holds both 0 and 1, which exclude each other");
	} else if (strcmp(name, "rua") == 0 || strcmp(name, "ruf") == 0) {
		bool bad;

		if (name[2] == 'a')
			rec->nrua += read_uris(ps, t, &ps->rua_tail, &bad);
		else
			rec->nruf += read_uris(ps, t, &ps->ruf_tail, &bad);
	} else if (strcmp(name, "pct") == 0 || strcmp(name, "rf") == 0 ||
	    strcmp(name, "ri") == 0) {
		problem(ps, "DM-07", SPF_LINT_INFO, SEC_TAGS, t->offset, t->len,
			"%s is ignored since RFC 9989 removed it (RFC 7489 "
			"receivers may still read it)", name);
		if (strcmp(name, "pct") == 0) {
			ps->seen_pct = true;
			if (strcmp(v, "0") == 0)
				ps->seen_pct0 = true;
			else if (strcmp(v, "100") != 0)
				problem(ps, "DM-07", SPF_LINT_WARNING, SEC_TAGS,
					vo, vl, "pct=%s: values other than 0 and "
					"100 were never applied reliably, and "
					"RFC 9989 receivers enforce the policy "
					"in full", quote(ps, v, vl));
		}
	} else if (strcmp(name, "v") == 0) {
		problem(ps, "DM-22", SPF_LINT_WARNING, SEC_VERSION, t->offset,
			t->len, "v may appear only first; this one is ignored");
	} else {
		const char *near = near_tag(name);

		problem(ps, "DM-06", near != NULL ? SPF_LINT_WARNING :
			SPF_LINT_INFO, SEC_TAGS, t->offset, t->len,
			"unknown tag '%s' is ignored%s%s%s", quote(ps, name,
			strlen(name)), near ? " (did you mean " : "",
			near ? near : "", near ? "?)" : "");
	}
}

/* Read one tag at s[i..): name *WSP "=" *WSP value, up to ';' or the
 * end.  Returns the offset of the ';' or the end. */
static size_t read_tag(struct parse *ps, size_t i)
{
	const char *s = ps->s;
	size_t len = ps->len, start = i, name_end, vs, ve, stop;
	spf_dmarc_tag_t *t;
	bool name_ok = true, upper = false;
	char *name;

	stop = i;
	while (stop < len && s[stop] != ';')
		stop++;
	while (i < stop && !is_wsp(s[i]) && s[i] != '=') {
		if (!is_alpha(s[i]))
			name_ok = false;
		else if (s[i] >= 'A' && s[i] <= 'Z')
			upper = true;
		i++;
	}
	name_end = i;
	while (i < stop && is_wsp(s[i]))
		i++;
	if (name_end == start || !name_ok || i >= stop || s[i] != '=') {
		size_t show = stop;

		while (show > start && is_wsp(s[show - 1]))
			show--;
		if (name_end == start)
			problem(ps, "DM-22", SPF_LINT_ERROR, SEC_TAGS, start,
				show - start, "a tag must begin with its name "
				"(letters), then '='");
		else if (!name_ok)
			problem(ps, "DM-22", SPF_LINT_ERROR, SEC_TAGS, start,
				name_end - start, "'%s' is not a tag name "
				"(letters only): the tag is ignored",
				quote(ps, s + start, name_end - start));
		else
			problem(ps, "DM-22", SPF_LINT_ERROR, SEC_TAGS, start,
				show - start, "'%s' has no '=': a tag is "
				"name=value; it is ignored",
				quote(ps, s + start, show - start));
		return stop;
	}
	i++;
	while (i < stop && is_wsp(s[i]))
		i++;
	vs = i;
	ve = stop;
	while (ve > vs && is_wsp(s[ve - 1]))
		ve--;
	name = spf_arena_strndup(ps->arena, s + start, name_end - start);
	if (name == NULL) {
		ps->failed = true;
		return stop;
	}
	for (char *p = name; *p; p++)
		*p = spf_lower(*p);
	if (ve == vs) {
		problem(ps, "DM-22", SPF_LINT_ERROR, SEC_TAGS, start,
			(i > start ? i : name_end) - start,
			"%s has an empty value: the tag is ignored", name);
		return stop;
	}
	for (size_t j = vs; j < ve; j++) {
		unsigned char c = (unsigned char)s[j];

		if ((c < 0x21 || c > 0x7e) && !is_wsp((char)c)) {
			problem(ps, "DM-22", SPF_LINT_ERROR, SEC_TAGS, j, 1,
				"byte %s in the value of %s: a value is "
				"printable ASCII; the tag is ignored",
				quote(ps, s + j, 1), name);
			return stop;
		}
	}
	for (struct node *n = ps->tags; n != NULL; n = n->next) {
		const spf_dmarc_tag_t *o = n->item;

		if (strcmp(o->name, name) == 0) {
			problem(ps, "DM-23", SPF_LINT_WARNING, SEC_TAGS, start,
				ve - start, "%s is given twice: receivers "
				"differ on which one counts; this one is "
				"ignored here", name);
			return stop;
		}
	}
	t = spf_arena_alloc(ps->arena, sizeof(*t));
	if (t == NULL) {
		ps->failed = true;
		return stop;
	}
	t->name = name;
	t->value = spf_arena_strndup(ps->arena, s + vs, ve - vs);
	t->offset = start;
	t->len = ve - start;
	t->value_offset = vs;
	t->value_len = ve - vs;
	if (t->value == NULL || !append(ps, &ps->tags_tail, t)) {
		ps->failed = true;
		return stop;
	}
	ps->rec->ntags++;
	if (upper && tag_known(name))
		problem(ps, "DM-06", SPF_LINT_WARNING, SEC_TAGS, start,
			name_end - start, "tag name '%s' in upper case: tag "
			"names are lower case, and some receivers read them "
			"case-sensitively", quote(ps, s + start, name_end - start));
	tag_value(ps, t);
	return stop;
}

/* The tags after the version, from offset i. */
static void read_tags(struct parse *ps, size_t i)
{
	const char *s = ps->s;
	size_t len = ps->len;

	for (;;) {
		while (i < len && is_wsp(s[i]))
			i++;
		if (i >= len)
			return;
		if (s[i] != ';') {   /* read_tag always stops at ';' or end */
			problem(ps, "DM-22", SPF_LINT_ERROR, SEC_TAGS, i, 1,
				"expected ';' between tags");
			while (i < len && s[i] != ';')
				i++;
			continue;
		}
		i++;
		while (i < len && is_wsp(s[i]))
			i++;
		if (i >= len)
			return;                 /* a final ';' is allowed */
		if (s[i] == ';') {
			problem(ps, "DM-22", SPF_LINT_INFO, SEC_TAGS, i, 1,
				"an empty tag between two ';'");
			continue;
		}
		i = read_tag(ps, i);
	}
}

/* ---- the record as a whole ---- */

static int strength(spf_dmarc_policy_t p)
{
	return p == SPF_DMARC_REJECT ? 3 : p == SPF_DMARC_QUARANTINE ? 2 :
		p == SPF_DMARC_NONE ? 1 : 0;
}

/* The span of tag name's whole tag, or of the record. */
static void tag_span(struct parse *ps, const char *name, size_t *off,
	size_t *len)
{
	*off = 0;
	*len = ps->len;
	for (struct node *n = ps->tags; n != NULL; n = n->next) {
		const spf_dmarc_tag_t *t = n->item;

		if (strcmp(t->name, name) == 0) {
			*off = t->offset;
			*len = t->len;
			return;
		}
	}
}

/* §4.7: the fallback that turns a record off, and the checks of tags
 * against each other. */
static void whole(struct parse *ps)
{
	spf_dmarc_record_t *rec = ps->rec;
	bool broken = rec->p == SPF_DMARC_UNSET || rec->sp_bad || rec->np_bad;
	size_t off, len;

	if (rec->p == SPF_DMARC_UNSET && !rec->p_bad)
		problem(ps, "DM-04", SPF_LINT_ERROR, SEC_TAGS, 0, 0,
			"no p= tag: %s", rec->nrua > 0 ?
			"receivers act as if it said p=none (rua holds a valid URI)" :
			"without a valid rua URI as well, receivers apply no DMARC at all");
	else if (broken)
		problem(ps, "DM-04", SPF_LINT_ERROR, SEC_TAGS, 0, 0,
			"an invalid p, sp or np %s", rec->nrua > 0 ?
			"makes receivers act as if the record said p=none "
			"(rua holds a valid URI)" :
			"and no valid rua URI: receivers apply no DMARC at all");
	rec->usable = !broken || rec->nrua > 0;
	rec->downgraded = broken && rec->nrua > 0;
	if (!rec->usable)
		return;
	if (rec->downgraded)
		return;
	tag_span(ps, "p", &off, &len);
	if (rec->p == SPF_DMARC_NONE)
		problem(ps, "DM-21", SPF_LINT_WARNING, SEC_TAGS, off, len,
			"p=none asks for reports only: no receiver acts on "
			"failing mail; move to quarantine or reject once the "
			"reports show your mail aligns");
	if (rec->testing && rec->p == SPF_DMARC_NONE) {
		tag_span(ps, "t", &off, &len);
		problem(ps, "DM-09", SPF_LINT_INFO, SEC_TAGS, off, len,
			"t=y has no effect with p=none");
	}
	if (ps->seen_pct0 && !rec->testing) {
		tag_span(ps, "pct", &off, &len);
		problem(ps, "DM-08", SPF_LINT_WARNING, SEC_TAGS, off, len,
			"pct=0 without t=y: RFC 9989 receivers ignore pct and "
			"apply p=%s in full; add t=y to keep testing",
			spf_dmarc_policy_str(rec->p));
	} else if (rec->testing && !ps->seen_pct0 &&
	    rec->p != SPF_DMARC_NONE) {
		tag_span(ps, "t", &off, &len);
		problem(ps, "DM-08", SPF_LINT_INFO, SEC_TAGS, off, len,
			"t=y without pct=0: RFC 7489 receivers do not know t "
			"and apply p=%s in full", spf_dmarc_policy_str(rec->p));
	}
	if (rec->has_fo && rec->nruf == 0) {
		tag_span(ps, "fo", &off, &len);
		problem(ps, "DM-10", SPF_LINT_INFO, SEC_TAGS, off, len,
			"fo has no effect without ruf");
	}
	if (rec->psd == 'y' && rec->nruf > 0) {
		tag_span(ps, "ruf", &off, &len);
		problem(ps, "DM-13", SPF_LINT_WARNING, "RFC 9990 §6", off, len,
			"psd=y with ruf: a public suffix must not ask for "
			"failure reports about the domains below it");
	}
	if (rec->sp != SPF_DMARC_UNSET && strength(rec->sp) < strength(rec->p)) {
		tag_span(ps, "sp", &off, &len);
		problem(ps, "DM-19", SPF_LINT_INFO, SEC_TAGS, off, len,
			"sp=%s is weaker than p=%s: existing subdomains get "
			"the weaker policy", spf_dmarc_policy_str(rec->sp),
			spf_dmarc_policy_str(rec->p));
	}
	if (rec->np != SPF_DMARC_UNSET && strength(rec->np) < strength(rec->p)) {
		tag_span(ps, "np", &off, &len);
		problem(ps, "DM-19", SPF_LINT_INFO, SEC_TAGS, off, len,
			"np=%s is weaker than p=%s: names that do not exist "
			"get the weaker policy", spf_dmarc_policy_str(rec->np),
			spf_dmarc_policy_str(rec->p));
	} else if (rec->np == SPF_DMARC_UNSET && rec->sp != SPF_DMARC_UNSET &&
	    strength(rec->sp) < strength(rec->p)) {
		tag_span(ps, "sp", &off, &len);
		problem(ps, "DM-19", SPF_LINT_INFO, SEC_TAGS, off, len,
			"without np, names that do not exist get sp=%s too; "
			"consider np=%s", spf_dmarc_policy_str(rec->sp),
			spf_dmarc_policy_str(rec->p));
	}
}

/* Lists to arrays in the arena. */
static const void **to_array(struct parse *ps, struct node *head, size_t n,
	size_t size, bool by_value)
{
	char *a;
	size_t i = 0;

	if (n == 0)
		return NULL;
	a = spf_arena_alloc(ps->arena, n * size);
	if (a == NULL) {
		ps->failed = true;
		return NULL;
	}
	for (struct node *x = head; x != NULL && i < n; x = x->next, i++) {
		if (by_value)
			memcpy(a + i * size, x->item, size);
		else
			((const void **)(void *)a)[i] = x->item;
	}
	return (const void **)(void *)a;
}

spf_status_t spf_dmarc_parse(spf_arena_t *arena, const void *text, size_t len,
	spf_dmarc_record_t **out)
{
	struct parse ps = { 0 };
	spf_dmarc_record_t *rec;
	size_t end = 0;

	if (arena == NULL || (text == NULL && len > 0) || out == NULL)
		return SPF_EINVAL;
	*out = NULL;
	rec = spf_arena_alloc(arena, sizeof(*rec));
	if (rec == NULL)
		return SPF_ENOMEM;
	ps.arena = arena;
	ps.rec = rec;
	ps.problems_tail = &ps.problems;
	ps.tags_tail = &ps.tags;
	ps.rua_tail = &ps.rua;
	ps.ruf_tail = &ps.ruf;
	rec->psd = 'u';
	ps.len = len > SPF_DMARC_RECORD_MAX ? SPF_DMARC_RECORD_MAX : len;
	ps.s = rec->text = spf_arena_strndup(arena, text != NULL ? text : "",
		ps.len);
	if (rec->text == NULL)
		return SPF_ENOMEM;
	rec->len = ps.len;
	if (len > ps.len)
		problem(&ps, "DM-22", SPF_LINT_ERROR, SEC_TAGS, ps.len, 0,
			"the record is over %u bytes: the rest is not read",
			(unsigned)SPF_DMARC_RECORD_MAX);
	rec->is_dmarc = version_ok(ps.s, ps.len, &end);
	if (rec->is_dmarc) {
		read_tags(&ps, end);
		whole(&ps);
	} else {
		lookalike(&ps);
	}
	rec->tags = (const spf_dmarc_tag_t *)(const void *)to_array(&ps,
		ps.tags, rec->ntags, sizeof(spf_dmarc_tag_t), true);
	rec->rua = (const char *const *)to_array(&ps, ps.rua, rec->nrua,
		sizeof(char *), false);
	rec->ruf = (const char *const *)to_array(&ps, ps.ruf, rec->nruf,
		sizeof(char *), false);
	rec->problems = (const spf_lint_finding_t *)(const void *)to_array(&ps,
		ps.problems, ps.nproblems, sizeof(spf_lint_finding_t), true);
	rec->nproblems = ps.nproblems;
	if (ps.failed)
		return SPF_ENOMEM;
	*out = rec;
	return SPF_OK;
}

const char *spf_dmarc_policy_str(spf_dmarc_policy_t p)
{
	switch (p) {
	case SPF_DMARC_NONE:
		return "none";
	case SPF_DMARC_QUARANTINE:
		return "quarantine";
	case SPF_DMARC_REJECT:
		return "reject";
	default:
		return "-";
	}
}

spf_dmarc_policy_t spf_dmarc_policy_for(const spf_dmarc_record_t *rec,
	bool subdomain, bool exists, const char **tag)
{
	const char *used = NULL;
	spf_dmarc_policy_t p = SPF_DMARC_UNSET;

	if (rec != NULL && rec->usable) {
		if (rec->downgraded) {
			used = "p";
			p = SPF_DMARC_NONE;
		} else if (!subdomain) {
			used = "p";
			p = rec->p;
		} else if (!exists && rec->np != SPF_DMARC_UNSET) {
			used = "np";
			p = rec->np;
		} else if (rec->sp != SPF_DMARC_UNSET) {
			used = "sp";
			p = rec->sp;
		} else {
			used = "p";
			p = rec->p;
		}
	}
	if (tag != NULL)
		*tag = used;
	return p;
}
