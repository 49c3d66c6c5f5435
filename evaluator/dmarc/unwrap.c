/*
 * unwrap.c - what carries a DMARC aggregate report: plain XML, a gzip
 * stream, a zip archive with one file, or a mail message with the
 * report attached.
 *
 * DESCRIPTION
 *	The kind is told by the first bytes: '<' (after a UTF-8 BOM and
 *	white space) is XML, 1f 8b gzip, "PK\3\4" zip, and anything that
 *	starts like a header field ("Name:") a message.  libarchive reads
 *	gzip (its raw format behind the gzip filter) and zip; mime.c finds
 *	the report part of a message and decodes it (base64 or
 *	quoted-printable), which is then unwrapped once more (XML, gzip or
 *	zip, never another message).
 *
 *	Every decompressed byte is counted against max: past it the file
 *	is refused, so a small zip or gzip bomb costs at most max bytes of
 *	memory and the time to inflate them.
 *
 * DIAGNOSTICS
 *	One line in why: libarchive's message for a damaged or truncated
 *	archive, the count of files in a zip that holds more than one, the
 *	limit passed, "no report attached" for a message without one.
 */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

const char *spf_wrap_str(spf_wrap_t w)
{
	switch (w) {
	case SPF_WRAP_XML: return "xml";
	case SPF_WRAP_GZIP: return "gzip";
	case SPF_WRAP_ZIP: return "zip";
	case SPF_WRAP_MAIL: return "mail";
	}
	return "?";
}

static void say(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static bool looks_xml(const unsigned char *p, size_t len)
{
	size_t i = 0;

	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		i = 3;
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
	    p[i] == '\n'))
		i++;
	return i < len && p[i] == '<';
}

/* A header field name then ':' on the first line. */
static bool looks_mail(const unsigned char *p, size_t len)
{
	size_t i = 0;

	while (i < len && i < 80 && p[i] > 0x20 && p[i] < 0x7f && p[i] != ':')
		i++;
	return i > 0 && i < len && p[i] == ':';
}

static spf_status_t copy_out(const void *data, size_t len, char **xml,
	size_t *xml_len)
{
	char *s = spf_malloc(len + 1);

	if (s == NULL)
		return SPF_ENOMEM;
	memcpy(s, data, len);
	s[len] = '\0';
	*xml = s;
	*xml_len = len;
	return SPF_OK;
}

/* ---- gzip and zip (libarchive) ---- */

static spf_status_t from_archive(const void *data, size_t len, size_t max,
	bool zip, char **xml, size_t *xml_len, char *why, size_t whylen)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	spf_buf_t b;
	spf_status_t st = SPF_EINVAL;
	size_t files = 0;
	int r;

	spf_buf_init(&b, max);
	if (a == NULL)
		return SPF_ENOMEM;
	if (zip) {
		archive_read_support_format_zip(a);
	} else {
		archive_read_support_filter_gzip(a);
		archive_read_support_format_raw(a);
	}
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		say(why, whylen, "%s: %s", zip ? "zip" : "gzip",
			archive_error_string(a) ? archive_error_string(a) : "cannot read");
		goto done;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK ||
	    r == ARCHIVE_WARN) {
		char chunk[16384];
		ssize_t n;

		if (archive_entry_filetype(e) == AE_IFDIR)
			continue;
		if (++files > 1) {
			say(why, whylen, "the zip holds more than one file; a report "
				"zip holds one XML file");
			goto done;
		}
		while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
			if (b.len + (size_t)n > max) {
				say(why, whylen, "%s: more than %zu bytes once "
					"decompressed (a zip or gzip bomb?)",
					zip ? "zip" : "gzip", max);
				goto done;
			}
			if (spf_buf_append(&b, chunk, (size_t)n) != SPF_OK) {
				st = SPF_ENOMEM;
				goto done;
			}
		}
		if (n < 0) {
			say(why, whylen, "%s: %s", zip ? "zip" : "gzip",
				archive_error_string(a) ? archive_error_string(a)
				: "damaged");
			goto done;
		}
	}
	if (r != ARCHIVE_EOF) {
		say(why, whylen, "%s: %s", zip ? "zip" : "gzip",
			archive_error_string(a) ? archive_error_string(a) : "damaged");
		goto done;
	}
	if (files == 0) {
		say(why, whylen, "%s: no file inside", zip ? "zip" : "gzip");
		goto done;
	}
	st = copy_out(b.data ? b.data : "", b.len, xml, xml_len);
done:
	archive_read_free(a);
	spf_buf_finish(&b);
	return st;
}

/* ---- mail (mime.c) ---- */

static spf_status_t unwrap(const void *data, size_t len, size_t max, int depth,
	char **xml, size_t *xml_len, spf_wrap_t *kind, char *why, size_t whylen);

static spf_status_t from_mail(const void *data, size_t len, size_t max,
	char **xml, size_t *xml_len, char *why, size_t whylen)
{
	char *part = NULL;
	size_t plen = 0;
	spf_wrap_t inner;
	spf_status_t st = spf_report_mime(data, len, max, &part, &plen, why, whylen);

	if (st != SPF_OK)
		return st;
	st = unwrap(part, plen, max, 1, xml, xml_len, &inner, why, whylen);
	spf_free(part);
	return st;
}

static spf_status_t unwrap(const void *data, size_t len, size_t max, int depth,
	char **xml, size_t *xml_len, spf_wrap_t *kind, char *why, size_t whylen)
{
	const unsigned char *p = data;

	if (len > max) {
		say(why, whylen, "more than %zu bytes", max);
		return SPF_EINVAL;
	}
	if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
		*kind = SPF_WRAP_GZIP;
		return from_archive(data, len, max, false, xml, xml_len, why, whylen);
	}
	if (len >= 4 && memcmp(p, "PK\3\4", 4) == 0) {
		*kind = SPF_WRAP_ZIP;
		return from_archive(data, len, max, true, xml, xml_len, why, whylen);
	}
	if (looks_xml(p, len)) {
		*kind = SPF_WRAP_XML;
		return copy_out(data, len, xml, xml_len);
	}
	if (depth == 0 && looks_mail(p, len)) {
		*kind = SPF_WRAP_MAIL;
		return from_mail(data, len, max, xml, xml_len, why, whylen);
	}
	say(why, whylen, depth == 0 ? "not a report: neither XML, gzip, zip nor a "
		"mail message" : "the attachment is neither XML, gzip nor zip");
	return SPF_EINVAL;
}

/* why on one line: control bytes become spaces, trailing ones go */
static void one_line(char *why)
{
	size_t n = 0;

	for (char *p = why; *p != '\0'; p++, n++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	while (n > 0 && why[n - 1] == ' ')
		why[--n] = '\0';
}

spf_status_t spf_report_unwrap(const void *data, size_t len, size_t max,
	char **xml, size_t *xml_len, spf_wrap_t *kind, char *why, size_t whylen)
{
	spf_wrap_t k = SPF_WRAP_XML;
	spf_status_t st;

	*xml = NULL;
	*xml_len = 0;
	if (whylen > 0)
		why[0] = '\0';
	if (max == 0)
		max = SPF_REPORT_MAX_BYTES;
	st = unwrap(data, len, max, 0, xml, xml_len, &k, why, whylen);
	if (kind != NULL)
		*kind = k;
	if (whylen > 0)
		one_line(why);
	return st;
}
