/*
 * policy_config.c - the `spfcheck policyd` configuration file.
 *
 * DESCRIPTION
 *	"name = value" lines; blank lines and lines whose first non-blank
 *	character is '#' are skipped.  Names are pypolicyd-spf's (spf-engine
 *	3.0.4, SPECS C.6), compared case-sensitively as pypolicyd-spf does;
 *	values keep their case where it matters (Reason_Message, restriction
 *	names) and keywords are case-insensitive.  Defaults are pypolicyd-
 *	spf's code defaults, not the stale comments of its sample file.
 *
 *	Where we differ (documented in doc/policyd.md): an unknown option or
 *	a bad value is an error naming the line (pypolicyd-spf logs and
 *	ignores it); '=' may appear in a value (pypolicyd-spf drops such
 *	lines); Hide_Receiver takes yes/no only; options spfcheck does not
 *	implement are errors that say so, except the milter-only ones, which
 *	are read and ignored with a warning.
 *
 * DIAGNOSTICS
 *	"FILE:LINE: ..." naming the option and the value; see policy.h.
 *	The file's name and bytes are shown as the replies show text
 *	(policy_sanitize: control bytes and non-ASCII as '?'), so that a
 *	binary file cannot write escape sequences to a terminal or a log.
 */
#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CONFIG (1024 * 1024)
/* Postfix's smtpd_policy_service_timeout default (postconf(5)) */
#define POSTFIX_POLICY_TIMEOUT 100

policy_config_t *policy_config_create(void)
{
	policy_config_t *c = spf_calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->debug_level = 1;
	c->enforce = true;
	c->helo_reject = POLICY_REJ_FAIL;
	c->mfrom_reject = POLICY_REJ_FAIL;
	c->whitelist_lookup_time = 10;
	c->enhanced_codes = true;
	c->header_type = POLICY_HDR_SPF;
	c->lookup_time = 20;
	c->request_time = 60;
	c->void_limit = 2;
	c->queue_id = true;
	c->refs = 1;
	/* skip_addresses default: 127.0.0.0/8,::ffff:127.0.0.0/104,::1 (the
	 * mapped form is the same network once parsed) */
	c->skip = spf_calloc(2, sizeof(*c->skip));
	if (c->skip == NULL) {
		spf_free(c);
		return NULL;
	}
	spf_addr_parse("127.0.0.0", &c->skip[0].net);
	c->skip[0].prefix = 8;
	spf_addr_parse("::1", &c->skip[1].net);
	c->skip[1].prefix = 128;
	c->nskip = 2;
	return c;
}

policy_config_t *policy_config_ref(policy_config_t *c)
{
	if (c != NULL)
		c->refs++;
	return c;
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		spf_free(l[i]);
	spf_free(l);
}

void policy_config_unref(policy_config_t *c)
{
	if (c == NULL || --c->refs > 0)
		return;
	spf_free(c->helo_pass_restriction);
	spf_free(c->mfrom_pass_restriction);
	spf_free(c->skip);
	spf_free(c->whitelist);
	free_list(c->helo_whitelist, c->nhelo_whitelist);
	free_list(c->domain_whitelist, c->ndomain_whitelist);
	free_list(c->not_pass_domains, c->nnot_pass_domains);
	spf_free(c->authserv_id);
	spf_free(c->receiver);
	spf_free(c->reason_message);
	spf_free(c->path);
	spf_free(c);
}

bool policy_net_match(const policy_net_t *nets, size_t n, const spf_addr_t *ip)
{
	for (size_t i = 0; i < n; i++)
		if (nets[i].net.family == ip->family &&
		    spf_addr_in_net(ip, &nets[i].net, nets[i].prefix))
			return true;
	return false;
}

/* a and b equal ignoring case and one trailing dot on either */
static bool name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && spf_strncaseeq(a, b, la);
}

bool policy_name_listed(char *const *list, size_t n, const char *name)
{
	if (name == NULL || *name == '\0')
		return false;
	for (size_t i = 0; i < n; i++)
		if (name_eq(list[i], name))
			return true;
	return false;
}

/* ---- value parsers: false with *why (static) on a bad value ---- */

static bool parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "true", "yes", "1", "on" };
	static const char *const no[] = { "false", "no", "0", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (spf_streq_nocase(v, yes[i])) {
			*out = true;
			return true;
		}
		if (spf_streq_nocase(v, no[i])) {
			*out = false;
			return true;
		}
	}
	return false;
}

static bool parse_uint(const char *v, unsigned long min, unsigned long max,
	unsigned *out)
{
	char *end;
	unsigned long n;

	if (*v < '0' || *v > '9')
		return false;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return false;
	*out = (unsigned)n;
	return true;
}

static bool parse_reject(const char *v, bool helo, policy_reject_t *out)
{
	static const struct { const char *name; policy_reject_t r; } t[] = {
		{ "Fail", POLICY_REJ_FAIL }, { "Softfail", POLICY_REJ_SOFTFAIL },
		{ "SPF_Not_Pass", POLICY_REJ_NOT_PASS }, { "Null", POLICY_REJ_NULL },
		{ "False", POLICY_REJ_FALSE }, { "No_Check", POLICY_REJ_NO_CHECK },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (spf_streq_nocase(v, t[i].name)) {
			if (t[i].r == POLICY_REJ_NULL && !helo)
				return false;
			*out = t[i].r;
			return true;
		}
	}
	return false;
}

/* Split a comma (or blank) separated list into fresh strings. */
static spf_status_t split_list(const char *v, char ***out, size_t *n)
{
	char **l = NULL;
	size_t cnt = 0;
	const char *p = v;

	while (*p != '\0') {
		size_t len;
		char **nl;

		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		len = strcspn(p, ", \t");
		if (len == 0)
			break;
		nl = spf_realloc(l, (cnt + 1) * sizeof(*l));
		if (nl == NULL)
			goto nomem;
		l = nl;
		l[cnt] = spf_strndup(p, len);
		if (l[cnt] == NULL)
			goto nomem;
		cnt++;
		p += len;
	}
	*out = l;
	*n = cnt;
	return SPF_OK;
nomem:
	free_list(l, cnt);
	return SPF_ENOMEM;
}

/* "ADDR[/PREFIX]" (IPv4-mapped ::ffff:a.b.c.d/96+N is the IPv4 /N). */
static bool parse_net(const char *s, policy_net_t *out)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned prefix;
	bool mapped;

	if (alen == 0 || alen >= sizeof(buf))
		return false;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (!spf_addr_parse(buf, &out->net))
		return false;
	mapped = strchr(buf, ':') != NULL && out->net.family == 4;
	if (slash == NULL) {
		prefix = out->net.family == 4 ? 32 : 128;
	} else if (!parse_uint(slash + 1, 0, out->net.family == 4 && !mapped ? 32 : 128,
			&prefix)) {
		return false;
	}
	if (mapped && slash != NULL) {
		if (prefix < 96)
			return false;
		prefix -= 96;
	}
	out->prefix = prefix;
	return true;
}

static spf_status_t parse_nets(const char *v, policy_net_t **out, size_t *n,
	const char **bad)
{
	char **items = NULL;
	size_t cnt = 0;
	policy_net_t *nets = NULL;
	spf_status_t st = split_list(v, &items, &cnt);

	if (st != SPF_OK)
		return st;
	if (cnt > 0) {
		nets = spf_calloc(cnt, sizeof(*nets));
		if (nets == NULL) {
			free_list(items, cnt);
			return SPF_ENOMEM;
		}
	}
	for (size_t i = 0; i < cnt; i++) {
		if (!parse_net(items[i], &nets[i])) {
			static char badbuf[128];

			snprintf(badbuf, sizeof(badbuf), "%s", items[i]);
			*bad = badbuf;
			spf_free(nets);
			free_list(items, cnt);
			return SPF_ESYNTAX;
		}
	}
	free_list(items, cnt);
	spf_free(*out);
	*out = nets;
	*n = cnt;
	return SPF_OK;
}

static spf_status_t set_str(char **field, const char *v)
{
	char *s = spf_strdup(v);

	if (s == NULL)
		return SPF_ENOMEM;
	spf_free(*field);
	*field = s;
	return SPF_OK;
}

static spf_status_t set_list(char ***field, size_t *n, const char *v)
{
	char **l = NULL;
	size_t cnt = 0;
	spf_status_t st = split_list(v, &l, &cnt);

	if (st != SPF_OK)
		return st;
	free_list(*field, *n);
	*field = l;
	*n = cnt;
	return SPF_OK;
}

/* Options pypolicyd-spf has that spfcheck does not implement, and why. */
static const struct { const char *name; const char *why; } unsupported[] = {
	{ "No_Mail", "it compares the raw TXT text with 'v=spf1 -all' only" },
	{ "Prospective", "outbound checking is not a policy service job; use spfcheck check" },
	{ "Per_User", "per-recipient options are not implemented" },
	{ "Domain_Whitelist_PTR", "its plain suffix match of an unverified PTR name is unsafe; "
		"use Whitelist or Domain_Whitelist" },
	{ "Mock", "it answers dunno followed by text, which is not a valid action" },
};

/* pyspf-milter options: not ours, read and ignored. */
static const char *const milter_only[] = {
	"Socket", "PidFile", "UserID", "UMask", "InternalHosts", "IntHosts", "MacroList",
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Apply one option; NULL, or a static reason on a bad value. */
static const char *apply(policy_config_t *c, const char *name, const char *v,
	spf_status_t *st, const char **bad, bool *whole,
	void (*warn)(void *, const char *), void *arg, const char *where)
{
	unsigned u;
	char msg[512];

	*st = SPF_OK;
	if (strcmp(name, "debugLevel") == 0) {
		char *end;
		long n = strtol(v, &end, 10);

		if (*v == '\0' || *end != '\0' || n < -1 || n > 5)
			return "debugLevel must be a number from -1 to 5";
		c->debug_level = (int)n;
	} else if (strcmp(name, "TestOnly") == 0 || strcmp(name, "defaultSeedOnly") == 0) {
		if (!parse_uint(v, 0, 1, &u))
			return "TestOnly must be 1 (enforce, the default) or 0 (test: prepend only)";
		c->enforce = u == 1;
		if (name[0] == 'd' && warn != NULL) {
			snprintf(msg, sizeof(msg), "%s: defaultSeedOnly is the old name of TestOnly",
				where);
			warn(arg, msg);
		}
	} else if (strcmp(name, "HELO_reject") == 0) {
		if (!parse_reject(v, true, &c->helo_reject))
			return "HELO_reject must be Fail, Softfail, SPF_Not_Pass, Null, False or No_Check";
	} else if (strcmp(name, "Mail_From_reject") == 0) {
		if (!parse_reject(v, false, &c->mfrom_reject))
			return "Mail_From_reject must be Fail, Softfail, SPF_Not_Pass, False or No_Check";
	} else if (strcmp(name, "PermError_reject") == 0) {
		if (!parse_bool(v, &c->permerror_reject))
			return "PermError_reject must be True or False";
	} else if (strcmp(name, "TempError_Defer") == 0) {
		if (!parse_bool(v, &c->temperror_defer))
			return "TempError_Defer must be True or False";
	} else if (strcmp(name, "HELO_pass_restriction") == 0 ||
		   strcmp(name, "Mail_From_pass_restriction") == 0) {
		for (const char *p = v; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
				return "a pass restriction must be a restriction class name";
		*st = set_str(name[0] == 'H' ? &c->helo_pass_restriction :
			&c->mfrom_pass_restriction, v);
	} else if (strcmp(name, "skip_addresses") == 0) {
		*st = parse_nets(v, &c->skip, &c->nskip, bad);
		if (*st == SPF_ESYNTAX)
			return "skip_addresses must be a comma separated list of ADDR[/PREFIX]";
	} else if (strcmp(name, "Whitelist") == 0) {
		*st = parse_nets(v, &c->whitelist, &c->nwhitelist, bad);
		if (*st == SPF_ESYNTAX)
			return "Whitelist must be a comma separated list of ADDR[/PREFIX]";
	} else if (strcmp(name, "HELO_Whitelist") == 0) {
		*st = set_list(&c->helo_whitelist, &c->nhelo_whitelist, v);
	} else if (strcmp(name, "Domain_Whitelist") == 0) {
		*st = set_list(&c->domain_whitelist, &c->ndomain_whitelist, v);
	} else if (strcmp(name, "Reject_Not_Pass_Domains") == 0) {
		*st = set_list(&c->not_pass_domains, &c->nnot_pass_domains, v);
	} else if (strcmp(name, "Whitelist_Lookup_Time") == 0) {
		if (!parse_uint(v, 1, 100, &c->whitelist_lookup_time))
			return "Whitelist_Lookup_Time must be a number of seconds from 1 to 100";
	} else if (strcmp(name, "SPF_Enhanced_Status_Codes") == 0) {
		if (!parse_bool(v, &c->enhanced_codes))
			return "SPF_Enhanced_Status_Codes must be Yes or No";
	} else if (strcmp(name, "Header_Type") == 0) {
		if (spf_streq_nocase(v, "SPF"))
			c->header_type = POLICY_HDR_SPF;
		else if (spf_streq_nocase(v, "AR"))
			c->header_type = POLICY_HDR_AR;
		else if (spf_streq_nocase(v, "both"))
			c->header_type = POLICY_HDR_BOTH;
		else if (spf_streq_nocase(v, "None"))
			c->header_type = POLICY_HDR_NONE;
		else
			return "Header_Type must be SPF, AR, both or None";
	} else if (strcmp(name, "Hide_Receiver") == 0) {
		if (!parse_bool(v, &c->hide_receiver))
			return "Hide_Receiver must be Yes or No";
	} else if (strcmp(name, "Authserv_Id") == 0) {
		if (*v == '\0' || strchr(v, ';') != NULL || strchr(v, ' ') != NULL)
			return "Authserv_Id must be a name without blanks or ';' (or HOSTNAME)";
		if (strcmp(v, "HOSTNAME") == 0) {
			spf_free(c->authserv_id);
			c->authserv_id = NULL;
		} else {
			*st = set_str(&c->authserv_id, v);
		}
	} else if (strcmp(name, "Receiver") == 0) {
		if (*v == '\0' || strchr(v, ' ') != NULL || strchr(v, ';') != NULL)
			return "Receiver must be a host name without blanks or ';'";
		*st = set_str(&c->receiver, v);
	} else if (strcmp(name, "Lookup_Time") == 0) {
		if (!parse_uint(v, 1, 100, &c->lookup_time))
			return "Lookup_Time must be a number of seconds from 1 to 100";
	} else if (strcmp(name, "Request_Time") == 0) {
		if (!parse_uint(v, 1, 3600, &c->request_time))
			return "Request_Time must be a number of seconds from 1 to 3600";
		if (c->request_time > POSTFIX_POLICY_TIMEOUT && warn != NULL) {
			snprintf(msg, sizeof(msg), "%s: Request_Time %u s is over Postfix's "
				"default smtpd_policy_service_timeout of %d s: unless that is "
				"raised too, smtpd gives up on a slow request first (451 4.3.5)",
				where, c->request_time, POSTFIX_POLICY_TIMEOUT);
			warn(arg, msg);
		}
	} else if (strcmp(name, "Void_Limit") == 0) {
		if (!parse_uint(v, 1, 100, &c->void_limit))
			return "Void_Limit must be a number from 1 to 100";
	} else if (strcmp(name, "Max_Queries_In_Flight") == 0) {
		if (!parse_uint(v, 1, 100000, &c->max_inflight))
			return "Max_Queries_In_Flight must be a number from 1 to 100000";
	} else if (strcmp(name, "Void_Count") == 0) {
		/* issue 17: rfc (RFC 7208 §4.6.4, a term's query) or per-query
		 * (pyspf, so pypolicyd-spf: each MX host without an address) */
		if (spf_streq_nocase(v, "rfc"))
			c->void_count = SPF_VOID_RFC;
		else if (spf_streq_nocase(v, "per-query"))
			c->void_count = SPF_VOID_PER_QUERY;
		else
			return "Void_Count must be rfc or per-query";
	} else if (strcmp(name, "Reason_Message") == 0) {
		if (*v == '\0' || strlen(v) > 400)
			return "Reason_Message must be 1 to 400 characters";
		for (const unsigned char *p = (const unsigned char *)v; *p; p++)
			if (*p < 0x20 || *p >= 0x7f)
				return "Reason_Message must be printable ASCII";
		*st = set_str(&c->reason_message, v);
	} else if (strcmp(name, "QueueID") == 0) {
		if (!parse_bool(v, &c->queue_id))
			return "QueueID must be True or False";
	} else {
		for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
			if (strcmp(name, unsupported[i].name) == 0) {
				*whole = true;
				return unsupported[i].why;
			}
		}
		for (size_t i = 0; i < sizeof(milter_only) / sizeof(milter_only[0]); i++) {
			if (strcmp(name, milter_only[i]) == 0) {
				if (warn != NULL) {
					snprintf(msg, sizeof(msg),
						"%s: %s is a pyspf-milter option; ignored", where, name);
					warn(arg, msg);
				}
				return NULL;
			}
		}
		return "";   /* unknown option */
	}
	return NULL;
}

static char *errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *errf(const char *fmt, ...)
{
	spf_buf_t b;
	va_list ap;
	char *s;

	spf_buf_init(&b, 4096);
	va_start(ap, fmt);
	spf_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	s = spf_strdup(b.err == SPF_OK ? spf_buf_cstr(&b) : "out of memory");
	spf_buf_finish(&b);
	return s;
}

spf_status_t policy_config_parse(policy_config_t *c, const char *text,
	size_t len, const char *label, char **err,
	void (*warn)(void *arg, const char *msg), void *arg)
{
	size_t pos = 0;
	unsigned lineno = 0;
	char *line = NULL, slabel[270];
	spf_status_t st = SPF_OK;

	*err = NULL;
	policy_printable(label, slabel, sizeof(slabel), 256);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *name, *v, *eq, *e;
		const char *why, *bad = NULL;
		bool whole = false;
		char where[300], sname[100], sv[220], sbad[150];

		lineno++;
		spf_free(line);
		line = spf_strndup(text + pos, llen);
		pos += llen + (nl ? 1 : 0);
		if (line == NULL) {
			st = SPF_ENOMEM;
			break;
		}
		/* the file's bytes and its name are shown as the protocol
		 * replies show text: control bytes and non-ASCII as '?' */
		snprintf(where, sizeof(where), "%s:%u", slabel, lineno);
		if (memchr(text + pos - llen - (nl ? 1 : 0), '\0', llen) != NULL) {
			*err = errf("%s: a NUL byte", where);
			st = SPF_ESYNTAX;
			break;
		}
		for (name = line; is_blank(*name); name++)
			;
		if (*name == '\0' || *name == '#')
			continue;
		eq = strchr(name, '=');
		if (eq == NULL) {
			*err = errf("%s: not 'name = value': %s", where,
				policy_printable(name, sname, sizeof(sname), 80));
			st = SPF_ESYNTAX;
			break;
		}
		for (e = eq; e > name && is_blank(e[-1]); e--)
			;
		*e = '\0';
		for (v = eq + 1; is_blank(*v); v++)
			;
		for (e = v + strlen(v); e > v && is_blank(e[-1]); e--)
			;
		*e = '\0';
		if (*name == '\0') {
			*err = errf("%s: a value without an option name", where);
			st = SPF_ESYNTAX;
			break;
		}
		why = apply(c, name, v, &st, &bad, &whole, warn, arg, where);
		if (st == SPF_ENOMEM)
			break;
		if (why != NULL) {
			policy_printable(name, sname, sizeof(sname), 80);
			policy_printable(v, sv, sizeof(sv), 200);
			if (*why == '\0')
				*err = errf("%s: unknown option '%s'", where, sname);
			else if (bad != NULL)
				*err = errf("%s: %s: bad entry '%s' in '%s'", where, why,
					policy_printable(bad, sbad, sizeof(sbad), 127), sv);
			else if (whole)
				*err = errf("%s: %s is not supported by spfcheck policyd: %s",
					where, sname, why);
			else
				*err = errf("%s: %s, not '%s'", where, why, sv);
			st = SPF_ESYNTAX;
			break;
		}
	}
	spf_free(line);
	if (st == SPF_ENOMEM && *err == NULL)
		*err = errf("%s: out of memory", label);
	return st;
}

spf_status_t policy_config_load(const char *path, policy_config_t **out,
	char **err, void (*warn)(void *arg, const char *msg), void *arg)
{
	/* O_NONBLOCK: opening a FIFO for reading waits for a writer, and
	 * would stop the daemon at start or on SIGHUP; fstat() then refuses
	 * anything but a regular file before a read can block */
	int fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	struct stat sb;
	char shown[300];
	char *text = NULL;
	size_t len = 0;
	policy_config_t *c = NULL;
	spf_status_t st;

	*out = NULL;
	*err = NULL;
	policy_printable(path, shown, sizeof(shown), 256);
	if (fd < 0) {
		*err = errf("cannot read the config file %s: %s", shown, strerror(errno));
		return SPF_EIO;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		*err = errf("config file %s is not a regular file", shown);
		st = SPF_EINVAL;
		goto done;
	}
	if (sb.st_mode & S_IWOTH) {
		*err = errf("config file %s is writable by everyone; refusing it "
			"(chmod o-w %s)", shown, shown);
		st = SPF_EINVAL;
		goto done;
	}
	if (sb.st_size > MAX_CONFIG) {
		*err = errf("config file %s is over 1 MiB", shown);
		st = SPF_ETOOBIG;
		goto done;
	}
	text = spf_malloc((size_t)sb.st_size + 1);
	if (text == NULL) {
		st = SPF_ENOMEM;
		*err = errf("out of memory");
		goto done;
	}
	while (len < (size_t)sb.st_size) {
		ssize_t n = read(fd, text + len, (size_t)sb.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*err = errf("cannot read the config file %s: %s", shown, strerror(errno));
			st = SPF_EIO;
			goto done;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	c = policy_config_create();
	if (c == NULL || (c->path = spf_strdup(path)) == NULL) {
		st = SPF_ENOMEM;
		*err = errf("out of memory");
		goto done;
	}
	st = policy_config_parse(c, text, len, path, err, warn, arg);
	if (st == SPF_OK) {
		*out = c;
		c = NULL;
	}
done:
	policy_config_unref(c);
	spf_free(text);
	close(fd);
	return st;
}
