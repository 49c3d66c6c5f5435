/*
 * report.h - DMARC aggregate reports (RFC 9990, and RFC 7489 appendix C
 * before it) read from untrusted bytes: the XML "feedback" document
 * (report.c, libxml2) and what carries it, gzip, zip or a mail message
 * (unwrap.c with libarchive, and mime.c for messages).
 *
 * These live in a library of their own (libspfreport, static), apart
 * from libspfcheck, so that the SPF library does not pull in libxml2
 * and libarchive.  Nothing here evaluates SPF or queries DNS.
 */
#ifndef SPF_REPORT_H
#define SPF_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "spf.h"

/* The most bytes of one report, read or decompressed (64 MiB): a
 * month's report of a busy domain is a few MiB of XML. */
#define SPF_REPORT_MAX_BYTES (64u * 1024 * 1024)

/* One <dkim> or <spf> of a record's <auth_results>; NULL when absent. */
typedef struct {
	const char *domain;
	const char *selector;   /* dkim */
	const char *scope;      /* spf: "mfrom" or "helo" */
	const char *result;
} spf_report_auth_t;

/* One <record>.  Strings are trimmed; NULL when the element is absent. */
typedef struct {
	const char *source_ip;  /* checked: an IPv4 or IPv6 address */
	uint64_t count;
	const char *disposition, *dkim, *spf;   /* <policy_evaluated> */
	const char *header_from, *envelope_from, *envelope_to;
	size_t ndkim, nspf;
	const spf_report_auth_t *dkim_results, *spf_results;
} spf_report_record_t;

/* One report.  begin and end are the <date_range> (seconds since the
 * epoch), -1 when absent. */
typedef struct {
	const char *version;    /* <version> (RFC 9990), or NULL */
	const char *org_name, *email, *report_id;
	int64_t begin, end;
	const char *domain;     /* <policy_published> */
	const char *adkim, *aspf, *p, *sp, *np;
	size_t nrecords;
	const spf_report_record_t *records;
	void *priv;             /* the arena everything lives in */
} spf_report_t;

/*
 * Parse xml[0..len) as an aggregate report.  The XML is read with the
 * network off and no entity ever expanded; a document with a DOCTYPE
 * (where entities and external subsets are declared) is refused before
 * anything in it is read.  Element names are matched without their
 * namespace, so documents with and without one read alike.
 *
 * Returns SPF_OK and *out (spf_report_destroy), SPF_EINVAL with a
 * one-line reason in why[0..whylen) (not XML, not a report, a record
 * without a valid source_ip or count), or SPF_ENOMEM.
 */
spf_status_t spf_report_parse(const void *xml, size_t len, spf_report_t **out,
	char *why, size_t whylen);
void spf_report_destroy(spf_report_t *r);            /* NULL ok */

/* What the bytes of a file were. */
typedef enum {
	SPF_WRAP_XML,
	SPF_WRAP_GZIP,
	SPF_WRAP_ZIP,
	SPF_WRAP_MAIL,          /* a message, the report attached */
} spf_wrap_t;

const char *spf_wrap_str(spf_wrap_t w);               /* static */

/*
 * The XML inside data[0..len): the bytes themselves when they are XML,
 * the one file of a gzip stream or a zip archive, or the report attached
 * to a mail message (its first part that is XML, gzip or zip by content
 * type or file name, decoded, then unwrapped in turn).  What it was is
 * told by content, not by file name.  Decompression stops past max bytes
 * (0: SPF_REPORT_MAX_BYTES), which is how a zip or gzip bomb is refused.
 *
 * Returns SPF_OK with *xml (malloc'ed, spf_free; NUL-terminated, the NUL
 * not counted in *xml_len) and *kind, SPF_EINVAL with a one-line reason
 * in why (truncated gzip, a zip with more than one file, past max, a
 * message without a report, bytes that are none of these), or
 * SPF_ENOMEM.
 */
spf_status_t spf_report_unwrap(const void *data, size_t len, size_t max,
	char **xml, size_t *xml_len, spf_wrap_t *kind, char *why, size_t whylen);

/*
 * The report attached to the mail message msg[0..len) (mime.c, RFC 2045
 * and 2046): the first part, depth first, that is XML, gzip or zip by
 * its Content-Type or its file name, decoded from base64 or
 * quoted-printable, not unwrapped further.  At most max bytes once
 * decoded (0: SPF_REPORT_MAX_BYTES).
 *
 * Returns SPF_OK with *out (malloc'ed, spf_free; NUL-terminated, the NUL
 * not counted in *out_len), SPF_EINVAL with a one-line reason in why (no
 * header, no report part, multiparts nested too deep, over max, an
 * unknown transfer encoding), or SPF_ENOMEM.
 */
spf_status_t spf_report_mime(const void *msg, size_t len, size_t max,
	char **out, size_t *out_len, char *why, size_t whylen);

#endif
