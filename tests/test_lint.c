/*
 * test_lint.c - every lint rule, triggered and not triggered, on
 * in-memory zones built in code (no network); the totals past the
 * limits; the void-lookup readings; positions of findings.
 */
#include <event2/event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "env.h"

#include "spf.h"

struct lcase {
	const char *name;
	const char *zone;        /* master-file text, absolute names */
	const char *domain;      /* domain to lint (NULL: draft only) */
	const char *draft;       /* draft record, or NULL */
	const char *rule;
	bool expect;             /* the rule fires */
	int severity;            /* expected severity when it fires, -1 any */
	unsigned gen_ip4;        /* > 0: domain's TXT is v=spf1 + N ip4 terms */
	const char *timeout;     /* a name whose lookups time out */
};

#define Z "$TTL 300\n"
#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct lcase cases[] = {
	/* syntax */
	{ "syntax-bad-ip", Z "a.example.org. TXT \"v=spf1 ip4:192.0.2.300 -all\"\n",
	  "a.example.org", NULL, "L-SYNTAX", true, SPF_LINT_ERROR, 0, NULL },
	{ "syntax-ok", Z "a.example.org. TXT \"v=spf1 ip4:192.0.2.3 -all\"\n",
	  "a.example.org", NULL, "L-SYNTAX", false, -1, 0, NULL },
	{ "syntax-unknown-mech", NULL, NULL, "v=spf1 ipv4:192.0.2.1 -all",
	  "L-SYNTAX", true, SPF_LINT_ERROR, 0, NULL },
	{ "syntax-redirect-colon", NULL, NULL, "v=spf1 redirect:example.org",
	  "L-SYNTAX", true, SPF_LINT_ERROR, 0, NULL },
	{ "syntax-two-exp", NULL, NULL, "v=spf1 -all exp=a.example.org exp=b.example.org",
	  "L-SYNTAX", true, SPF_LINT_ERROR, 0, NULL },
	{ "syntax-macro", NULL, NULL, "v=spf1 exists:%{x}.example.org -all",
	  "L-SYNTAX", true, SPF_LINT_ERROR, 0, NULL },
	{ "syntax-case-ok", NULL, NULL, "V=SPF1 IP4:192.0.2.1 Include:_spf.example.org -ALL",
	  "L-SYNTAX", false, -1, 0, NULL },
	/* version tag */
	{ "version-spf10", Z "a.example.org. TXT \"v=spf10 -all\"\n",
	  "a.example.org", NULL, "L-VERSION", true, SPF_LINT_ERROR, 0, NULL },
	{ "version-spf1x", NULL, NULL, "v=spf1x -all", "L-VERSION", true,
	  SPF_LINT_ERROR, 0, NULL },
	{ "version-leading-space", Z "a.example.org. TXT \" v=spf1 -all\"\n",
	  "a.example.org", NULL, "L-VERSION", true, SPF_LINT_ERROR, 0, NULL },
	{ "version-ok", Z "a.example.org. TXT \"v=spf1 -all\"\n",
	  "a.example.org", NULL, "L-VERSION", false, -1, 0, NULL },
	/* record discovery */
	{ "no-record", Z "a.example.org. TXT \"google-site-verification=x\"\n",
	  "a.example.org", NULL, "L-NO-RECORD", true, SPF_LINT_ERROR, 0, NULL },
	{ "no-record-nxdomain", Z "b.example.org. TXT \"v=spf1 -all\"\n",
	  "a.example.org", NULL, "L-NO-RECORD", true, SPF_LINT_ERROR, 0, NULL },
	{ "record-ok", Z "a.example.org. TXT \"v=spf1 -all\"\n",
	  "a.example.org", NULL, "L-NO-RECORD", false, -1, 0, NULL },
	{ "multiple", Z "a.example.org. TXT \"v=spf1 -all\"\na.example.org. TXT \"v=spf1 mx -all\"\n",
	  "a.example.org", NULL, "L-MULTIPLE", true, SPF_LINT_ERROR, 0, NULL },
	{ "multiple-include-target", Z "a.example.org. TXT \"v=spf1 include:b.example.org -all\"\n"
	  "b.example.org. TXT \"v=spf1 -all\"\nb.example.org. TXT \"V=SPF1 -all\"\n",
	  "a.example.org", NULL, "L-MULTIPLE", true, SPF_LINT_ERROR, 0, NULL },
	{ "single", Z "a.example.org. TXT \"v=spf1 -all\"\na.example.org. TXT \"other\"\n",
	  "a.example.org", NULL, "L-MULTIPLE", false, -1, 0, NULL },
	{ "type99-only", Z "a.example.org. SPF \"v=spf1 -all\"\n",
	  "a.example.org", NULL, "L-TYPE99-ONLY", true, SPF_LINT_ERROR, 0, NULL },
	{ "type99-and-txt", Z "a.example.org. SPF \"v=spf1 -all\"\na.example.org. TXT \"v=spf1 -all\"\n",
	  "a.example.org", NULL, "L-TYPE99-ONLY", false, -1, 0, NULL },
	{ "type99-obsolete", Z "a.example.org. SPF \"v=spf1 -all\"\na.example.org. TXT \"v=spf1 -all\"\n",
	  "a.example.org", NULL, "L-TYPE99", true, SPF_LINT_WARNING, 0, NULL },
	{ "type99-none", Z "a.example.org. TXT \"v=spf1 -all\"\n",
	  "a.example.org", NULL, "L-TYPE99", false, -1, 0, NULL },
	/* sizes */
	{ "string-long", NULL, NULL,
	  "v=spf1 ip4:192.0.2.1 ip4:192.0.2.2 ip4:192.0.2.3 ip4:192.0.2.4 ip4:192.0.2.5 "
	  "ip4:192.0.2.6 ip4:192.0.2.7 ip4:192.0.2.8 ip4:192.0.2.9 ip4:192.0.2.10 "
	  "ip4:192.0.2.11 ip4:192.0.2.12 ip4:192.0.2.13 ip4:192.0.2.14 ip4:192.0.2.15 "
	  "ip4:192.0.2.16 ip4:192.0.2.17 -all", "L-STRING-LONG", true, SPF_LINT_ERROR, 0, NULL },
	{ "string-short", NULL, NULL, "v=spf1 ip4:192.0.2.1 -all", "L-STRING-LONG",
	  false, -1, 0, NULL },
	{ "string-split-ok", Z "a.example.org. TXT \"v=spf1 ip4:192.0.2.0/24 \" \"-all\"\n",
	  "a.example.org", NULL, "L-STRING-LONG", false, -1, 0, NULL },
	{ "rrset-450", NULL, "big.example.org", NULL, "L-RRSET-450", true,
	  SPF_LINT_WARNING, 26, NULL },
	{ "rrset-450-small", NULL, "big.example.org", NULL, "L-RRSET-450", false,
	  -1, 20, NULL },
	{ "rrset-512", NULL, "big.example.org", NULL, "L-RRSET-512", true,
	  SPF_LINT_WARNING, 30, NULL },
	{ "rrset-512-not", NULL, "big.example.org", NULL, "L-RRSET-512", false,
	  -1, 26, NULL },
	/* limits */
	{ "lookups-over", Z "a.example.org. TXT \"v=spf1 include:b.example.org include:c.example.org -all\"\n"
	  "b.example.org. TXT \"v=spf1 a:h1.example.org a:h2.example.org a:h3.example.org a:h4.example.org\"\n"
	  "c.example.org. TXT \"v=spf1 a:h5.example.org a:h6.example.org a:h7.example.org a:h8.example.org mx\"\n",
	  "a.example.org", NULL, "L-LOOKUPS", true, SPF_LINT_ERROR, 0, NULL },
	{ "lookups-at-9", Z "a.example.org. TXT \"v=spf1 include:b.example.org include:c.example.org -all\"\n"
	  "b.example.org. TXT \"v=spf1 a:h1.example.org a:h2.example.org a:h3.example.org\"\n"
	  "c.example.org. TXT \"v=spf1 a:h5.example.org a:h6.example.org a:h7.example.org a:h8.example.org\"\n",
	  "a.example.org", NULL, "L-LOOKUPS", true, SPF_LINT_WARNING, 0, NULL },
	{ "lookups-8", Z "a.example.org. TXT \"v=spf1 include:b.example.org include:c.example.org -all\"\n"
	  "b.example.org. TXT \"v=spf1 a:h1.example.org a:h2.example.org a:h3.example.org\"\n"
	  "c.example.org. TXT \"v=spf1 a:h5.example.org a:h6.example.org a:h7.example.org\"\n",
	  "a.example.org", NULL, "L-LOOKUPS", false, -1, 0, NULL },
	{ "void-over", NULL, NULL, "v=spf1 a:n1.example.org a:n2.example.org a:n3.example.org -all",
	  "L-VOID", true, SPF_LINT_ERROR, 0, NULL },
	{ "void-at-limit", NULL, NULL, "v=spf1 a:n1.example.org a:n2.example.org -all",
	  "L-VOID", false, -1, 0, NULL },
	{ "void-query", Z "a.example.org. MX 10 m1.example.org.\na.example.org. MX 20 m2.example.org.\n"
	  "a.example.org. MX 30 m3.example.org.\na.example.org. TXT \"v=spf1 mx -all\"\n",
	  "a.example.org", NULL, "L-VOID-QUERY", true, SPF_LINT_WARNING, 0, NULL },
	{ "void-query-not", Z "a.example.org. MX 10 m1.example.org.\na.example.org. MX 20 m2.example.org.\n"
	  "a.example.org. MX 30 m3.example.org.\na.example.org. TXT \"v=spf1 mx -all\"\n"
	  "m1.example.org. A 192.0.2.1\nm2.example.org. A 192.0.2.2\nm3.example.org. A 192.0.2.3\n",
	  "a.example.org", NULL, "L-VOID-QUERY", false, -1, 0, NULL },
	{ "ipv6-void", Z "a.example.org. TXT \"v=spf1 a:h1.example.org a:h2.example.org a:h3.example.org -all\"\n"
	  "h1.example.org. A 192.0.2.1\nh2.example.org. A 192.0.2.2\nh3.example.org. A 192.0.2.3\n",
	  "a.example.org", NULL, "L-IPV6-VOID", true, SPF_LINT_WARNING, 0, NULL },
	/* targets without any address are L-VOID's, not "add AAAA" */
	{ "ipv6-void-nxdomain", NULL, NULL, "v=spf1 a:n1.example.org a:n2.example.org a:n3.example.org -all",
	  "L-IPV6-VOID", false, -1, 0, NULL },
	{ "ipv6-void-mixed", Z "h1.example.org. A 192.0.2.1\nh2.example.org. A 192.0.2.2\n", NULL,
	  "v=spf1 a:h1.example.org a:h2.example.org a:n3.example.org -all",
	  "L-IPV6-VOID", true, SPF_LINT_WARNING, 0, NULL },
	{ "ipv6-void-dual-stack", Z "a.example.org. TXT \"v=spf1 a:h1.example.org a:h2.example.org a:h3.example.org -all\"\n"
	  "h1.example.org. A 192.0.2.1\nh2.example.org. A 192.0.2.2\nh3.example.org. A 192.0.2.3\n"
	  "h1.example.org. AAAA 2001:db8::1\nh2.example.org. AAAA 2001:db8::2\nh3.example.org. AAAA 2001:db8::3\n",
	  "a.example.org", NULL, "L-IPV6-VOID", false, -1, 0, NULL },
	{ "ipv6-noaaaa", Z "a.example.org. TXT \"v=spf1 a:h1.example.org -all\"\nh1.example.org. A 192.0.2.1\n",
	  "a.example.org", NULL, "L-IPV6-NOAAAA", true, SPF_LINT_INFO, 0, NULL },
	{ "ipv6-noaaaa-mx", Z "a.example.org. TXT \"v=spf1 mx -all\"\na.example.org. MX 10 h1.example.org.\n"
	  "h1.example.org. A 192.0.2.1\n",
	  "a.example.org", NULL, "L-IPV6-NOAAAA", true, SPF_LINT_INFO, 0, NULL },
	{ "ipv6-aaaa", Z "a.example.org. TXT \"v=spf1 a:h1.example.org -all\"\nh1.example.org. A 192.0.2.1\n"
	  "h1.example.org. AAAA 2001:db8::1\n",
	  "a.example.org", NULL, "L-IPV6-NOAAAA", false, -1, 0, NULL },
	/* targets and loops */
	{ "include-none", Z "a.example.org. TXT \"v=spf1 include:nosuch.example.org -all\"\n",
	  "a.example.org", NULL, "L-TARGET-NONE", true, SPF_LINT_ERROR, 0, NULL },
	{ "redirect-none", Z "a.example.org. TXT \"v=spf1 redirect=b.example.org\"\nb.example.org. TXT \"hello\"\n",
	  "a.example.org", NULL, "L-TARGET-NONE", true, SPF_LINT_ERROR, 0, NULL },
	{ "include-ok", Z "a.example.org. TXT \"v=spf1 include:b.example.org -all\"\nb.example.org. TXT \"v=spf1 -all\"\n",
	  "a.example.org", NULL, "L-TARGET-NONE", false, -1, 0, NULL },
	{ "loop-two-domains", Z "a.example.org. TXT \"v=spf1 include:b.example.org -all\"\n"
	  "b.example.org. TXT \"v=spf1 include:c.example.org\"\nc.example.org. TXT \"v=spf1 redirect=a.example.org\"\n",
	  "a.example.org", NULL, "L-LOOP", true, SPF_LINT_ERROR, 0, NULL },
	{ "loop-redirect-self", Z "a.example.org. TXT \"v=spf1 redirect=a.example.org\"\n",
	  "a.example.org", NULL, "L-LOOP", true, SPF_LINT_ERROR, 0, NULL },
	{ "no-loop-duplicate-include", Z "a.example.org. TXT \"v=spf1 include:b.example.org include:c.example.org -all\"\n"
	  "b.example.org. TXT \"v=spf1 include:c.example.org\"\nc.example.org. TXT \"v=spf1 ip4:192.0.2.1\"\n",
	  "a.example.org", NULL, "L-LOOP", false, -1, 0, NULL },
	/* risky or useless terms */
	{ "ptr", NULL, NULL, "v=spf1 ptr -all", "L-PTR", true, SPF_LINT_WARNING, 0, NULL },
	{ "no-ptr", NULL, NULL, "v=spf1 ip4:192.0.2.1 -all", "L-PTR", false, -1, 0, NULL },
	{ "macro-p", NULL, NULL, "v=spf1 exists:%{p}.example.org -all", "L-MACRO-P",
	  true, SPF_LINT_WARNING, 0, NULL },
	{ "macro-i", NULL, NULL, "v=spf1 exists:%{i}.example.org -all", "L-MACRO-P",
	  false, -1, 0, NULL },
	{ "pass-all", NULL, NULL, "v=spf1 +all", "L-PASS-ALL", true, SPF_LINT_ERROR, 0, NULL },
	{ "pass-all-bare", NULL, NULL, "v=spf1 all", "L-PASS-ALL", true, SPF_LINT_ERROR, 0, NULL },
	{ "fail-all", NULL, NULL, "v=spf1 -all", "L-PASS-ALL", false, -1, 0, NULL },
	{ "neutral-all", NULL, NULL, "v=spf1 ?all", "L-NEUTRAL-ALL", true, SPF_LINT_WARNING, 0, NULL },
	{ "softfail-all", NULL, NULL, "v=spf1 ~all", "L-NEUTRAL-ALL", false, -1, 0, NULL },
	{ "neutral-all-in-include", Z "a.example.org. TXT \"v=spf1 include:b.example.org -all\"\n"
	  "b.example.org. TXT \"v=spf1 ip4:192.0.2.1 ?all\"\n",
	  "a.example.org", NULL, "L-NEUTRAL-ALL", false, -1, 0, NULL },
	{ "no-all", NULL, NULL, "v=spf1 ip4:192.0.2.1", "L-NO-ALL", true, SPF_LINT_WARNING, 0, NULL },
	{ "has-all", NULL, NULL, "v=spf1 ip4:192.0.2.1 -all", "L-NO-ALL", false, -1, 0, NULL },
	{ "has-redirect", Z "b.example.org. TXT \"v=spf1 -all\"\n", NULL,
	  "v=spf1 ip4:192.0.2.1 redirect=b.example.org", "L-NO-ALL", false, -1, 0, NULL },
	{ "redirect-ignored", Z "b.example.org. TXT \"v=spf1 -all\"\n", NULL,
	  "v=spf1 redirect=b.example.org ~all", "L-REDIRECT-IGNORED", true, SPF_LINT_WARNING, 0, NULL },
	{ "redirect-used", Z "b.example.org. TXT \"v=spf1 -all\"\n", NULL,
	  "v=spf1 ip4:192.0.2.1 redirect=b.example.org", "L-REDIRECT-IGNORED", false, -1, 0, NULL },
	{ "unreachable", NULL, NULL, "v=spf1 -all ip4:192.0.2.1", "L-UNREACHABLE",
	  true, SPF_LINT_WARNING, 0, NULL },
	{ "reachable", NULL, NULL, "v=spf1 ip4:192.0.2.1 -all exp=e.example.org",
	  "L-UNREACHABLE", false, -1, 0, NULL },
	/* mx and a targets */
	{ "mx-too-many", Z "a.example.org. TXT \"v=spf1 mx -all\"\n"
	  "a.example.org. MX 1 m1.example.org.\na.example.org. MX 2 m2.example.org.\n"
	  "a.example.org. MX 3 m3.example.org.\na.example.org. MX 4 m4.example.org.\n"
	  "a.example.org. MX 5 m5.example.org.\na.example.org. MX 6 m6.example.org.\n"
	  "a.example.org. MX 7 m7.example.org.\na.example.org. MX 8 m8.example.org.\n"
	  "a.example.org. MX 9 m9.example.org.\na.example.org. MX 10 m10.example.org.\n"
	  "a.example.org. MX 11 m11.example.org.\n",
	  "a.example.org", NULL, "L-MX-TOO-MANY", true, SPF_LINT_ERROR, 0, NULL },
	{ "mx-ok", Z "a.example.org. TXT \"v=spf1 mx -all\"\na.example.org. MX 1 m1.example.org.\n"
	  "m1.example.org. A 192.0.2.1\n",
	  "a.example.org", NULL, "L-MX-TOO-MANY", false, -1, 0, NULL },
	{ "null-mx", Z "a.example.org. TXT \"v=spf1 mx -all\"\na.example.org. MX 0 .\n",
	  "a.example.org", NULL, "L-NULL-MX", true, SPF_LINT_WARNING, 0, NULL },
	{ "not-null-mx", Z "a.example.org. TXT \"v=spf1 mx -all\"\na.example.org. MX 1 m1.example.org.\n"
	  "m1.example.org. A 192.0.2.1\n",
	  "a.example.org", NULL, "L-NULL-MX", false, -1, 0, NULL },
	{ "a-no-address", NULL, NULL, "v=spf1 a:nosuch.example.org -all", "L-NO-ADDRESS",
	  true, SPF_LINT_WARNING, 0, NULL },
	{ "mx-no-mx", NULL, NULL, "v=spf1 mx:nosuch.example.org -all", "L-NO-ADDRESS",
	  true, SPF_LINT_WARNING, 0, NULL },
	{ "mx-host-no-address", Z "a.example.org. TXT \"v=spf1 mx -all\"\na.example.org. MX 1 gone.example.org.\n",
	  "a.example.org", NULL, "L-NO-ADDRESS", true, SPF_LINT_WARNING, 0, NULL },
	{ "a-address", Z "h.example.org. A 192.0.2.1\n", NULL, "v=spf1 a:h.example.org -all",
	  "L-NO-ADDRESS", false, -1, 0, NULL },
	/* networks */
	{ "overlap-redundant", NULL, NULL, "v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.128/25 -all",
	  "L-OVERLAP", true, SPF_LINT_WARNING, 0, NULL },
	{ "overlap-later-covers", NULL, NULL, "v=spf1 ip4:192.0.2.7 ip4:192.0.2.0/24 -all",
	  "L-OVERLAP", true, SPF_LINT_WARNING, 0, NULL },
	{ "overlap-ip6", NULL, NULL, "v=spf1 ip6:2001:db8::/32 -ip6:2001:db8:1::/48 -all",
	  "L-OVERLAP", true, SPF_LINT_WARNING, 0, NULL },
	{ "overlap-exception-ok", NULL, NULL, "v=spf1 -ip4:192.0.2.7 ip4:192.0.2.0/24 -all",
	  "L-OVERLAP", false, -1, 0, NULL },
	{ "overlap-none", NULL, NULL, "v=spf1 ip4:192.0.2.0/25 ip4:192.0.2.128/25 -all",
	  "L-OVERLAP", false, -1, 0, NULL },
	{ "host-bits", NULL, NULL, "v=spf1 ip4:192.0.2.1/24 -all", "L-HOST-BITS", true,
	  SPF_LINT_WARNING, 0, NULL },
	{ "host-bits-ip6", NULL, NULL, "v=spf1 ip6:2001:db8::1/32 -all", "L-HOST-BITS", true,
	  SPF_LINT_WARNING, 0, NULL },
	{ "host-bits-none", NULL, NULL, "v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.1 -all",
	  "L-HOST-BITS", false, -1, 0, NULL },
	/* modifiers */
	{ "unknown-mod", NULL, NULL, "v=spf1 -all foo=bar", "L-UNKNOWN-MOD", true,
	  SPF_LINT_WARNING, 0, NULL },
	{ "unknown-mod-typo", Z "b.example.org. TXT \"v=spf1 -all\"\n", NULL,
	  "v=spf1 mx redirectt=b.example.org", "L-UNKNOWN-MOD", true, SPF_LINT_WARNING, 0, NULL },
	{ "rfc6652-mods", NULL, NULL, "v=spf1 -all ra=postmaster rp=10 rr=e:f",
	  "L-UNKNOWN-MOD", false, -1, 0, NULL },
	{ "exp-missing", NULL, NULL, "v=spf1 -all exp=nosuch.example.org", "L-EXP", true,
	  SPF_LINT_WARNING, 0, NULL },
	{ "exp-multiple", Z "e.example.org. TXT \"one\"\ne.example.org. TXT \"two\"\n", NULL,
	  "v=spf1 -all exp=e.example.org", "L-EXP", true, SPF_LINT_WARNING, 0, NULL },
	{ "exp-bad-macro", Z "e.example.org. TXT \"%{i is not allowed\"\n", NULL,
	  "v=spf1 -all exp=e.example.org", "L-EXP", true, SPF_LINT_WARNING, 0, NULL },
	{ "exp-ok", Z "e.example.org. TXT \"%{c} is not one of %{d}'s mail servers\"\n", NULL,
	  "v=spf1 -all exp=e.example.org", "L-EXP", false, -1, 0, NULL },
	{ "macro-place", NULL, NULL, "v=spf1 -all ra=%{l}", "L-MACRO-PLACE", true,
	  SPF_LINT_WARNING, 0, NULL },
	{ "macro-place-unknown-mod", NULL, NULL, "v=spf1 -all x-note=%{d}", "L-MACRO-PLACE", true,
	  SPF_LINT_WARNING, 0, NULL },
	{ "macro-place-ok", NULL, NULL, "v=spf1 exists:%{ir}.%{v}._spf.%{d} -all ra=postmaster",
	  "L-MACRO-PLACE", false, -1, 0, NULL },
	/* character-strings joined without a space (issue 17) */
	{ "glued", Z "a.example.org. TXT \"v=spf1 ip4:192.0.2.1\" \"-all\"\n",
	  "a.example.org", NULL, "L-GLUED", true, SPF_LINT_ERROR, 0, NULL },
	{ "glued-no-false-no-all", Z "a.example.org. TXT \"v=spf1 ip4:192.0.2.1\" \"-all\"\n",
	  "a.example.org", NULL, "L-NO-ALL", false, -1, 0, NULL },
	/* an all that does not parse is no missing all (issue 17) */
	{ "no-all-en-dash", NULL, NULL, "v=spf1 ip4:192.0.2.1 \xe2\x80\x93" "all",
	  "L-NO-ALL", false, -1, 0, NULL },
	{ "no-all-nbsp", NULL, NULL, "v=spf1 ip4:192.0.2.1\xc2\xa0-all",
	  "L-NO-ALL", false, -1, 0, NULL },
	{ "no-all-typo", NULL, NULL, "v=spf1 ip4:192.0.2.1 ~al", "L-NO-ALL", false, -1, 0, NULL },
	{ "no-all-other-syntax", NULL, NULL, "v=spf1 ip4:192.0.2.300", "L-NO-ALL", true,
	  SPF_LINT_WARNING, 0, NULL },
	{ "no-all-bad-a", NULL, NULL, "v=spf1 a:x..example.org", "L-NO-ALL", true,
	  SPF_LINT_WARNING, 0, NULL },
	/* the join's L-GLUED takes the place of the joined term's L-SYNTAX */
	{ "glued-no-syntax", Z "a.example.org. TXT \"v=spf1 ip4:192.0.2.1\" \"-all\"\n",
	  "a.example.org", NULL, "L-SYNTAX", false, -1, 0, NULL },
	{ "glued-other-syntax", Z "a.example.org. TXT \"v=spf1 ip4:192.0.2.1\" \"-all moo\"\n",
	  "a.example.org", NULL, "L-SYNTAX", true, SPF_LINT_ERROR, 0, NULL },
	{ "glued-still-parses", Z "a.example.org. TXT \"v=spf1 a:b.example.org\" \"mx -all\"\n",
	  "a.example.org", NULL, "L-GLUED", true, SPF_LINT_WARNING, 0, NULL },
	{ "glued-split-term", Z "a.example.org. TXT \"v=spf1 ip4:192.0.2.1 inc\" \"lude:b.example.org -all\"\n"
	  "b.example.org. TXT \"v=spf1 -all\"\n",
	  "a.example.org", NULL, "L-GLUED", false, -1, 0, NULL },
	{ "glued-version", Z "a.example.org. TXT \"v=spf1\" \"ip4:192.0.2.1 -all\"\n",
	  "a.example.org", NULL, "L-VERSION", true, SPF_LINT_ERROR, 0, NULL },
	{ "glued-with-space", Z "a.example.org. TXT \"v=spf1 ip4:192.0.2.1 \" \"-all\"\n",
	  "a.example.org", NULL, "L-GLUED", false, -1, 0, NULL },
	/* duplicate terms (issue 17) */
	{ "duplicate-mx", NULL, NULL, "v=spf1 mx mx -all", "L-DUPLICATE", true,
	  SPF_LINT_WARNING, 0, NULL },
	{ "duplicate-other-qualifier", NULL, NULL, "v=spf1 a:x.example.org ~A:X.example.org -all",
	  "L-DUPLICATE", true, SPF_LINT_WARNING, 0, NULL },
	{ "duplicate-ip4-is-overlap", NULL, NULL, "v=spf1 ip4:192.0.2.1 ip4:192.0.2.1 -all",
	  "L-DUPLICATE", false, -1, 0, NULL },
	{ "duplicate-none", NULL, NULL, "v=spf1 a:x.example.org a:y.example.org mx:x.example.org -all",
	  "L-DUPLICATE", false, -1, 0, NULL },
	{ "duplicate-across-records", Z "i.example.org. TXT \"v=spf1 a:h.example.org -all\"\n"
	  "j.example.org. TXT \"v=spf1 include:i.example.org -all\"\n", NULL,
	  "v=spf1 include:i.example.org include:j.example.org -all", "L-DUPLICATE", true,
	  SPF_LINT_WARNING, 0, NULL },
	{ "duplicate-other-targets", Z "i.example.org. TXT \"v=spf1 a:h.example.org -all\"\n"
	  "j.example.org. TXT \"v=spf1 include:k.example.org -all\"\nk.example.org. TXT \"v=spf1 -all\"\n", NULL,
	  "v=spf1 include:i.example.org include:j.example.org -all", "L-DUPLICATE", false,
	  -1, 0, NULL },
	/* special-purpose ranges (issue 17) */
	{ "special-private", NULL, NULL, "v=spf1 ip4:10.0.0.1 -all", "L-SPECIAL-RANGE", true,
	  SPF_LINT_WARNING, 0, NULL },
	{ "special-loopback6", NULL, NULL, "v=spf1 ip6:::1 -all", "L-SPECIAL-RANGE", true,
	  SPF_LINT_WARNING, 0, NULL },
	{ "special-shared", NULL, NULL, "v=spf1 ?ip4:100.64.1.0/24 -all", "L-SPECIAL-RANGE", true,
	  SPF_LINT_WARNING, 0, NULL },
	{ "special-doc-real-domain", Z "mail.acme.example.de. TXT \"v=spf1 ip4:192.0.2.1 -all\"\n",
	  "mail.acme.example.de", NULL, "L-SPECIAL-RANGE", true, SPF_LINT_WARNING, 0, NULL },
	{ "special-doc-example-domain", Z "a.example.org. TXT \"v=spf1 ip4:192.0.2.1 ip6:2001:db8::1 -all\"\n",
	  "a.example.org", NULL, "L-SPECIAL-RANGE", false, -1, 0, NULL },
	{ "special-doc-draft", NULL, NULL, "v=spf1 ip4:198.51.100.0/24 -all", "L-SPECIAL-RANGE",
	  false, -1, 0, NULL },
	{ "special-fail-term", NULL, NULL, "v=spf1 -ip4:10.0.0.0/8 ip4:8.8.8.0/24 -all",
	  "L-SPECIAL-RANGE", false, -1, 0, NULL },
	{ "special-wider-than-block", NULL, NULL, "v=spf1 ip4:8.0.0.0/7 -all",
	  "L-SPECIAL-RANGE", false, -1, 0, NULL },
	/* pass for the whole Internet without +all (issue 17) */
	{ "wide-halves", NULL, NULL, "v=spf1 ip4:0.0.0.0/1 ip4:128.0.0.0/1 ip6:::/1 ip6:8000::/1 -all",
	  "L-PASS-WIDE", true, SPF_LINT_ERROR, 0, NULL },
	{ "wide-slash-8", NULL, NULL, "v=spf1 ip4:11.0.0.0/8 -all", "L-PASS-WIDE", true,
	  SPF_LINT_ERROR, 0, NULL },
	{ "wide-two-slash-9", NULL, NULL, "v=spf1 ip4:11.0.0.0/9 ip4:12.128.0.0/9 -all", "L-PASS-WIDE",
	  true, SPF_LINT_ERROR, 0, NULL },
	{ "wide-slash-9", NULL, NULL, "v=spf1 ip4:11.0.0.0/9 -all", "L-PASS-WIDE", false, -1, 0, NULL },
	{ "wide-ip6-slash-8", NULL, NULL, "v=spf1 ip6:2000::/8 -all", "L-PASS-WIDE", true,
	  SPF_LINT_ERROR, 0, NULL },
	{ "wide-ip6-slash-9", NULL, NULL, "v=spf1 ip6:2000::/9 -all", "L-PASS-WIDE", false, -1, 0, NULL },
	{ "wide-after-fail", NULL, NULL, "v=spf1 -ip4:0.0.0.0/1 ip4:0.0.0.0/0 -all", "L-PASS-WIDE",
	  true, SPF_LINT_ERROR, 0, NULL },
	{ "wide-softfail", NULL, NULL, "v=spf1 ~ip4:0.0.0.0/0 -all", "L-PASS-WIDE", false, -1, 0, NULL },
	{ "wide-not-with-pass-all", NULL, NULL, "v=spf1 ip4:0.0.0.0/0 +all", "L-PASS-WIDE", false,
	  -1, 0, NULL },
	{ "wide-through-include", Z "i.example.org. TXT \"v=spf1 ip4:0.0.0.0/0 -all\"\n", NULL,
	  "v=spf1 include:i.example.org -all", "L-PASS-WIDE", true, SPF_LINT_ERROR, 0, NULL },
	{ "wide-include-fails-it", Z "i.example.org. TXT \"v=spf1 -ip4:0.0.0.0/0 -all\"\n", NULL,
	  "v=spf1 include:i.example.org -all", "L-PASS-WIDE", false, -1, 0, NULL },
	/* DNS and dynamic terms */
	{ "dns-timeout", Z "a.example.org. TXT \"v=spf1 include:t.example.org -all\"\n",
	  "a.example.org", NULL, "L-DNS", true, SPF_LINT_WARNING, 0, "t.example.org" },
	{ "dns-ok", Z "a.example.org. TXT \"v=spf1 include:t.example.org -all\"\nt.example.org. TXT \"v=spf1 -all\"\n",
	  "a.example.org", NULL, "L-DNS", false, -1, 0, NULL },
	{ "dynamic", NULL, NULL, "v=spf1 include:%{l}.users.example.org -all", "L-DYNAMIC",
	  true, SPF_LINT_INFO, 0, NULL },
	{ "static-d-macro", Z "_spf.d.example.org. TXT \"v=spf1 -all\"\nd.example.org. TXT \"v=spf1 include:_spf.%{d} -all\"\n",
	  "d.example.org", NULL, "L-DYNAMIC", false, -1, 0, NULL },
};

static spf_lint_t *run_lint(env_t *f, const char *domain, const char *draft)
{
	spf_lint_request_t req = { .domain = domain, .draft = draft,
		.draft_len = draft ? strlen(draft) : 0 };
	spf_status_t st;
	spf_lint_t *l = spf_lint_run(f->res, &req, &st);

	assert_int_equal(st, SPF_OK);
	assert_non_null(l);
	return l;
}

static const spf_lint_finding_t *find(const spf_lint_t *l, const char *rule)
{
	for (size_t i = 0; i < spf_lint_count(l); i++)
		if (strcmp(spf_lint_finding(l, i)->rule, rule) == 0)
			return spf_lint_finding(l, i);
	return NULL;
}

static void dump(const spf_lint_t *l)
{
	for (size_t i = 0; i < spf_lint_count(l); i++) {
		const spf_lint_finding_t *x = spf_lint_finding(l, i);

		print_message("  %s %s: %s\n", x->rule, x->domain, x->message);
	}
}

static void test_rules(void **state)
{
	size_t failed = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct lcase *c = &cases[i];
		env_t *f;
		const spf_lint_finding_t *x;
		spf_lint_t *l;

		env_teardown(state);
		assert_int_equal(env_setup(state), 0);
		f = *state;
		env_load(f, c->zone);
		if (c->timeout)
			assert_int_equal(spf_zone_set_timeout(f->zone, c->timeout), SPF_OK);
		if (c->gen_ip4 > 0) {
			char text[2048];
			size_t n = (size_t)snprintf(text, sizeof(text), "v=spf1");

			for (unsigned k = 0; k < c->gen_ip4; k++)
				n += (size_t)snprintf(text + n, sizeof(text) - n,
					" ip4:192.0.2.%u", 100 + k);
			snprintf(text + n, sizeof(text) - n, " -all");
			assert_int_equal(spf_zone_replace_txt(f->zone, c->domain,
				text, strlen(text)), SPF_OK);
		}
		l = run_lint(f, c->domain, c->draft);
		x = find(l, c->rule);
		if ((x != NULL) != c->expect ||
		    (x != NULL && c->severity >= 0 && (int)x->severity != c->severity)) {
			print_message("case %s: %s %s (severity %d)\n", c->name, c->rule,
				x ? "fired" : "did not fire", x ? (int)x->severity : -1);
			dump(l);
			failed++;
		}
		spf_lint_destroy(l);
	}
	print_message("%zu rule cases\n", sizeof(cases) / sizeof(cases[0]));
	assert_int_equal(failed, 0);
}

/* What a finding says and where it points: the rule fires with this
 * text in its message, and its range starts at offset (-1: any). */
struct mcase {
	const char *name;
	const char *zone;
	const char *domain;
	const char *draft;
	const char *rule;
	const char *contains;
	long offset;
};

static const struct mcase msgs[] = {
	{ "ipv6-void-lack-aaaa", Z "h1.example.org. A 192.0.2.1\nh2.example.org. A 192.0.2.2\n", NULL,
	  "v=spf1 a:h1.example.org a:h2.example.org a:n3.example.org -all",
	  "L-IPV6-VOID", "(2 a/mx targets lack AAAA)", -1 },
	/* the string boundary: after "v=spf1 ip4:192.0.2.1" (20 bytes) */
	{ "glued-at-boundary", Z "a.example.org. TXT \"v=spf1 ip4:192.0.2.1\" \"-all\"\n",
	  "a.example.org", NULL, "L-GLUED", "'ip4:192.0.2.1' and '-all' become "
	  "'ip4:192.0.2.1-all', which is not a term", 20 },
	{ "glued-version-at-boundary", Z "a.example.org. TXT \"v=spf1\" \"ip4:192.0.2.1 -all\"\n",
	  "a.example.org", NULL, "L-VERSION", "'v=spf1' runs into the first term", 6 },
	{ "wide-count", NULL, NULL, "v=spf1 ip4:192.0.2.0/24 ip4:0.0.0.0/1 ip4:128.0.0.0/1 -all",
	  "L-PASS-WIDE", "4294967296 IPv4 addresses pass, 100.0% of all, as many as a /0 "
	  "(the most through 'ip4:0.0.0.0/1')", 24 },
	{ "wide-count-ip6", NULL, NULL, "v=spf1 ip6:::/1 ip6:8000::/1 -all",
	  "L-PASS-WIDE", "about 2^128 IPv6 addresses pass", 7 },
	{ "duplicate-cost", Z "i.example.org. TXT \"v=spf1 a:h1.example.org mx:h2.example.org -all\"\n",
	  NULL, "v=spf1 include:i.example.org mx include:i.example.org -all",
	  "L-DUPLICATE", "spends 3 more of the 10 DNS lookups", 32 },
	{ "duplicate-across-cost", Z "i.example.org. TXT \"v=spf1 a:h.example.org mx -all\"\n"
	  "j.example.org. TXT \"v=spf1 include:i.example.org -all\"\n", NULL,
	  "v=spf1 include:i.example.org include:j.example.org -all", "L-DUPLICATE",
	  "'include:i.example.org' includes i.example.org, which the tree already includes "
	  "from the record of draft.invalid: its subtree is evaluated again and spends 3 "
	  "more of the 10 DNS lookups", 7 },
	/* L-EXP names the typographic characters as the record parser does
	 * (issue 17): en dash, no-break space, curly quotes */
	{ "exp-en-dash", Z "e.example.org. TXT \"Not our server \xe2\x80\x93 see %{d}\"\n",
	  NULL, "v=spf1 -all exp=e.example.org", "L-EXP",
	  "contains the non-ASCII character EN DASH (U+2013) at offset 15: receivers "
	  "ignore it; type '-' instead", -1 },
	{ "exp-nbsp", Z "e.example.org. TXT \"Not\xc2\xa0ours\"\n",
	  NULL, "v=spf1 -all exp=e.example.org", "L-EXP",
	  "NO-BREAK SPACE (U+00A0) at offset 3", -1 },
	{ "exp-curly-quote", Z "e.example.org. TXT \"\xe2\x80\x9cours\xe2\x80\x9d\"\n",
	  NULL, "v=spf1 -all exp=e.example.org", "L-EXP",
	  "LEFT DOUBLE QUOTATION MARK (U+201C) at offset 0", -1 },
	{ "exp-other-char", Z "e.example.org. TXT \"caf\xc3\xa9\"\n",
	  NULL, "v=spf1 -all exp=e.example.org", "L-EXP",
	  "contains the non-ASCII character U+00E9 at offset 3", -1 },
	{ "exp-bad-byte", Z "e.example.org. TXT \"ab\xff\"\n",
	  NULL, "v=spf1 -all exp=e.example.org", "L-EXP",
	  "contains the non-ASCII byte 0xFF at offset 2", -1 },
	{ "exp-control", Z "e.example.org. TXT \"a\\009b\"\n",
	  NULL, "v=spf1 -all exp=e.example.org", "L-EXP",
	  "contains the control byte 0x09 at offset 1", -1 },
	{ "special-name", NULL, NULL, "v=spf1 ip4:192.0.2.0/24 ip4:172.16.5.0/24 -all",
	  "L-SPECIAL-RANGE", "'ip4:172.16.5.0/24' is inside 172.16.0.0/12, Private-Use (RFC 1918)", 24 },
};

static void test_messages(void **state)
{
	size_t failed = 0;

	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		const struct mcase *c = &msgs[i];
		const spf_lint_finding_t *x;
		spf_lint_t *l;
		env_t *f;

		env_teardown(state);
		assert_int_equal(env_setup(state), 0);
		f = *state;
		env_load(f, c->zone);
		l = run_lint(f, c->domain, c->draft);
		x = find(l, c->rule);
		if (x == NULL || strstr(x->message, c->contains) == NULL ||
		    (c->offset >= 0 && (!x->has_range || x->offset != (size_t)c->offset))) {
			print_message("case %s: want %s with '%s' at %ld\n", c->name,
				c->rule, c->contains, c->offset);
			dump(l);
			failed++;
		}
		spf_lint_destroy(l);
	}
	assert_int_equal(failed, 0);
}

/* Every syntax error of a record, each at its own position. */
static void test_syntax_positions(void **state)
{
	env_t *f = *state;
	const char *draft = "v=spf1 ip4:192.0.2.300 mx -all moo include:";
	spf_lint_t *l = run_lint(f, NULL, draft);
	size_t n = 0;

	for (size_t i = 0; i < spf_lint_count(l); i++) {
		const spf_lint_finding_t *x = spf_lint_finding(l, i);

		if (strcmp(x->rule, "L-SYNTAX") != 0)
			continue;
		assert_true(x->has_range);
		if (n == 0)
			assert_int_equal(x->offset, strlen("v=spf1 ip4:"));
		if (n == 1) {
			assert_int_equal(x->offset, strlen("v=spf1 ip4:192.0.2.300 mx -all "));
			assert_int_equal(x->len, 3);
		}
		n++;
	}
	assert_int_equal(n, 3);
	spf_lint_destroy(l);
}

/* The totals go on past the limit of 10, with a number per term. */
static void test_past_limit(void **state)
{
	env_t *f = *state;
	spf_lint_counts_t c;
	spf_lint_t *l;
	const spf_lint_finding_t *x;

	env_load(f, Z "a.example.org. TXT \"v=spf1 include:b.example.org include:c.example.org -all\"\n"
		"b.example.org. TXT \"v=spf1 a:h1.example.org a:h2.example.org a:h3.example.org a:h4.example.org a:h5.example.org a:h6.example.org\"\n"
		"c.example.org. TXT \"v=spf1 a:h7.example.org a:h8.example.org a:h9.example.org a:h10.example.org a:h11.example.org a:h12.example.org redirect=d.example.org\"\n"
		"d.example.org. TXT \"v=spf1 mx ptr exists:x.example.org\"\n");
	l = run_lint(f, "a.example.org", NULL);
	spf_lint_counts(l, &c);
	assert_int_equal(c.lookups, 2 + 6 + 6 + 1 + 3);
	assert_int_equal(c.records, 4);
	assert_int_equal(spf_lint_lookup_count(l), 18);
	assert_string_equal(spf_lint_lookup(l, 0)->term, "include:b.example.org");
	assert_int_equal(spf_lint_lookup(l, 0)->subtree, 7);
	assert_int_equal(spf_lint_lookup(l, 7)->subtree, 11);
	assert_string_equal(spf_lint_lookup(l, 10)->term, "a:h9.example.org");
	x = find(l, "L-LOOKUPS");
	assert_non_null(x);
	assert_true(x->has_range);
	assert_int_equal(x->offset, strlen("v=spf1 include:b.example.org "));
	assert_non_null(strstr(x->message, "18 DNS-querying terms"));
	assert_non_null(strstr(x->message, "a:h9.example.org"));
	spf_lint_destroy(l);
}

/* The four void-lookup readings. */
static void test_void_readings(void **state)
{
	env_t *f = *state;
	spf_lint_counts_t c;
	spf_lint_t *l;

	env_load(f, Z "a.example.org. TXT \"v=spf1 a:v4.example.org mx a:none.example.org -all\"\n"
		"v4.example.org. A 192.0.2.1\n"
		"a.example.org. MX 10 m1.example.org.\na.example.org. MX 20 m2.example.org.\n"
		"m1.example.org. A 192.0.2.2\nm2.example.org. AAAA 2001:db8::2\n");
	l = run_lint(f, "a.example.org", NULL);
	spf_lint_counts(l, &c);
	assert_int_equal(c.voids, 1);          /* a:none */
	assert_int_equal(c.voids_query, 2);    /* + m2's A */
	assert_int_equal(c.voids6, 2);         /* a:v4's AAAA, a:none */
	assert_int_equal(c.voids6_query, 3);   /* + m1's AAAA */
	assert_int_equal(c.noaaaa, 2);         /* a:v4 and mx (m1) */
	assert_null(find(l, "L-VOID"));
	spf_lint_destroy(l);
}

/* A draft replaces the published record; other TXT records count. */
static void test_draft_over_published(void **state)
{
	env_t *f = *state;
	spf_lint_t *l;

	env_load(f, Z "a.example.org. TXT \"v=spf1 +all\"\n");
	l = run_lint(f, "a.example.org", "v=spf1 -all");
	assert_null(find(l, "L-PASS-ALL"));
	assert_null(find(l, "L-MULTIPLE"));
	assert_int_equal(spf_lint_worst(l), -1);
	spf_lint_destroy(l);
}

static void test_bad_args(void **state)
{
	env_t *f = *state;
	spf_lint_request_t req = { 0 };
	spf_status_t st;

	assert_null(spf_lint_run(f->res, &req, &st));
	assert_int_equal(st, SPF_EINVAL);
	assert_null(spf_lint_run(NULL, &req, &st));
	spf_lint_destroy(NULL);
}

/* Allocation failure anywhere: NULL and SPF_ENOMEM, nothing leaks. */
/* ---- asynchronous runs (audit: many on one loop) ---- */

static struct {
	size_t ndone, want;
	bool all;
} lint_seen;

struct async_lint {
	spf_lint_t *l;
	int calls;
};

static void lint_done(spf_lint_t *l, void *arg)
{
	struct async_lint *a = arg;

	assert_ptr_equal(l, a->l);
	assert_true(spf_lint_done(l));
	a->calls++;
	lint_seen.ndone++;
	lint_seen.all = lint_seen.ndone == lint_seen.want;
}

static void lint_never(spf_lint_t *l, void *arg)
{
	(void)l;
	(void)arg;
	fail_msg("the callback of a destroyed lint run was called");
}

/* Many lint runs at once give what each gives alone. */
static void test_async(void **state)
{
	static const char *const domains[] = {
		"a.example.org", "b.example.org", "c.example.org", "loop.example.org",
		"none.example.org", "two.example.org", "deep.example.org",
	};
	env_t *f = *state;
	struct async_lint runs[8];
	spf_lint_counts_t want[8], got;
	size_t nwant[8];
	spf_status_t st;
	spf_lint_t *gone;

	env_load(f, Z "a.example.org. TXT \"v=spf1 include:b.example.org mx -all\"\n"
		"a.example.org. MX 10 m.example.org.\n"
		"m.example.org. A 192.0.2.9\n"
		"b.example.org. TXT \"v=spf1 a:h.example.org ip4:192.0.2.0/24 ?all\"\n"
		"c.example.org. TXT \"v=spf1 a:void1.example.org a:void2.example.org "
		"a:void3.example.org -all\"\n"
		"loop.example.org. TXT \"v=spf1 include:loop.example.org -all\"\n"
		"two.example.org. TXT \"v=spf1 -all\"\n"
		"two.example.org. TXT \"v=spf1 +all\"\n"
		"deep.example.org. TXT \"v=spf1 include:a.example.org include:c.example.org -all\"\n");
	for (size_t i = 0; i < LEN(domains); i++) {
		spf_lint_request_t req = { .domain = domains[i] };
		spf_lint_t *l = spf_lint_run(f->res, &req, &st);

		assert_non_null(l);
		spf_lint_counts(l, &want[i]);
		nwant[i] = spf_lint_count(l);
		spf_lint_destroy(l);
	}
	memset(&lint_seen, 0, sizeof(lint_seen));
	lint_seen.want = LEN(domains) + 1;
	memset(runs, 0, sizeof(runs));
	for (size_t i = 0; i < LEN(domains); i++) {
		spf_lint_request_t req = { .domain = domains[i] };

		runs[i].l = spf_lint_start(f->res, &req, lint_done, &runs[i], &st);
		assert_non_null(runs[i].l);
		assert_int_equal(st, SPF_OK);
	}
	/* a draft that needs no lookup still calls back from the loop */
	{
		spf_lint_request_t req = { .draft = "v=spf1 ip4:192.0.2.1 -all",
			.draft_len = 25 };

		runs[7].l = spf_lint_start(f->res, &req, lint_done, &runs[7], &st);
		assert_non_null(runs[7].l);
	}
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(runs[i].calls, 0);
	{
		spf_lint_request_t req = { .domain = "a.example.org" };

		gone = spf_lint_start(f->res, &req, lint_never, NULL, &st);
		assert_non_null(gone);
		spf_lint_destroy(gone);
	}
	env_wait_for(f->base, &lint_seen.all, 0);
	for (size_t i = 0; i < LEN(domains); i++) {
		assert_int_equal(runs[i].calls, 1);
		assert_int_equal(spf_lint_status(runs[i].l), SPF_OK);
		spf_lint_counts(runs[i].l, &got);
		if (got.records != want[i].records || got.lookups != want[i].lookups ||
		    got.voids != want[i].voids || got.errors != want[i].errors ||
		    spf_lint_count(runs[i].l) != nwant[i])
			fail_msg("%s: async %u records %u lookups %u voids %zu findings, "
				"sync %u %u %u %zu", domains[i], got.records, got.lookups,
				got.voids, spf_lint_count(runs[i].l), want[i].records,
				want[i].lookups, want[i].voids, nwant[i]);
		spf_lint_destroy(runs[i].l);
	}
	assert_int_equal(runs[7].calls, 1);
	spf_lint_counts(runs[7].l, &got);
	assert_int_equal(got.records, 1);
	spf_lint_destroy(runs[7].l);
	/* deep: include:a, a's include:b and mx, b's a; include:c, c's 3 a */
	assert_int_equal(want[6].lookups, 8);
}

static void test_enomem(void **state)
{
	env_t *f = *state;
	spf_lint_request_t req = { .domain = "a.example.org" };
	spf_status_t st;

	env_load(f, Z "a.example.org. TXT \"v=spf1 include:b.example.org mx -all\"\n"
		"b.example.org. TXT \"v=spf1 a:h.example.org ip4:192.0.2.0/24\"\n"
		"a.example.org. MX 10 m.example.org.\n");
	for (unsigned long n = 1; n < 400; n++) {
		spf_lint_t *l;

		spf_alloc_fail_at(n);
		l = spf_lint_run(f->res, &req, &st);
		spf_alloc_fail_at(0);
		if (l != NULL) {
			spf_lint_destroy(l);
			continue;
		}
		assert_int_equal(st, SPF_ENOMEM);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rules, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_messages, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_syntax_positions, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_past_limit, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_void_readings, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_draft_over_published, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_bad_args, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_async, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_enomem, env_setup, env_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
