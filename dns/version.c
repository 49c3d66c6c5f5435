/*
 * version.c - the versions of the libraries the DNS engine runs on.
 *
 * DESCRIPTION
 *	spf_dns_lib_versions() asks c-ares, ldns and libidn2 for their
 *	version at run time (ares_version(), ldns_version(),
 *	idn2_check_version(NULL)), not the version of the headers spfcheck
 *	was compiled against: a packaged spfcheck runs on whatever shared
 *	libraries the system has, and that is what a bug report needs.
 *
 * DIAGNOSTICS
 *	None: each library returns static text.  A library that returns
 *	NULL is shown as "unknown".
 */
#include "spf_dns.h"

#include <ares.h>
#include <idn2.h>
#include <ldns/ldns.h>

static const char *or_unknown(const char *s)
{
	return s != NULL ? s : "unknown";
}

void spf_dns_lib_versions(const char **cares, const char **ldns, const char **idn2)
{
	if (cares != NULL)
		*cares = or_unknown(ares_version(NULL));
	if (ldns != NULL)
		*ldns = or_unknown(ldns_version());
	if (idn2 != NULL)
		*idn2 = or_unknown(idn2_check_version(NULL));
}
