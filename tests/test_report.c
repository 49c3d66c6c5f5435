/*
 * test_report.c - the aggregate report reader and its unwrapping
 * (evaluator/dmarc/report.c, unwrap.c) on hand-written inputs: namespace
 * prefixes, CDATA and character references, the first of a repeated
 * field, unknown elements, counts at the edge of 64 bits, what makes a
 * report invalid; gzip and zip built here with libarchive, a mail
 * message with a quoted-printable XML part, and what unwrap refuses;
 * mime.c's reading of messages (folding, boundaries, nesting, RFC 2231
 * names, base64 and quoted-printable) and what it refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>

#include "report.h"

static spf_report_t *parse_ok(const char *xml)
{
	spf_report_t *r = NULL;
	char why[256];

	if (spf_report_parse(xml, strlen(xml), &r, why, sizeof(why)) != SPF_OK)
		fail_msg("%s", why);
	assert_non_null(r);
	return r;
}

static void parse_bad(const char *xml, const char *want)
{
	spf_report_t *r = NULL;
	char why[256];

	assert_int_equal(spf_report_parse(xml, strlen(xml), &r, why, sizeof(why)),
		SPF_EINVAL);
	assert_null(r);
	if (strstr(why, want) == NULL)
		fail_msg("why '%s' does not contain '%s'", why, want);
}

static void test_fields(void **state)
{
	spf_report_t *r;

	(void)state;
	r = parse_ok("<?xml version='1.0'?>\n"
		"<d:feedback xmlns:d='urn:ietf:params:xml:ns:dmarc-2.0'>"
		"<d:version>1.0</d:version>"
		"<d:report_metadata><d:org_name> Big &amp; Co </d:org_name>"
		"<d:org_name>second</d:org_name>"
		"<d:report_id><![CDATA[id<1>]]></d:report_id>"
		"<d:date_range><d:begin>10</d:begin><d:end>20</d:end></d:date_range>"
		"</d:report_metadata>"
		"<d:policy_published><d:domain>example.com</d:domain><d:p>reject</d:p>"
		"<d:np>none</d:np></d:policy_published>"
		"<d:extensions><x:y xmlns:x='urn:x'><d:domain>not.this</d:domain></x:y></d:extensions>"
		"<d:record><d:row><d:source_ip>2001:db8::1</d:source_ip>"
		"<d:count>18446744073709551615</d:count></d:row>"
		"<d:identifiers><d:header_from>&#101;xample.com</d:header_from></d:identifiers>"
		"<d:auth_results><d:dkim><d:domain>a.example</d:domain><d:selector>s1</d:selector>"
		"<d:result>pass</d:result></d:dkim><d:dkim><d:domain>b.example</d:domain>"
		"<d:result>fail</d:result></d:dkim><d:spf><d:domain>example.com</d:domain>"
		"<d:scope>mfrom</d:scope><d:result>softfail</d:result></d:spf></d:auth_results>"
		"</d:record></d:feedback>");
	assert_string_equal(r->version, "1.0");
	assert_string_equal(r->org_name, "Big & Co");   /* trimmed, the first */
	assert_string_equal(r->report_id, "id<1>");
	assert_int_equal(r->begin, 10);
	assert_int_equal(r->end, 20);
	assert_string_equal(r->domain, "example.com");  /* not the extension's */
	assert_string_equal(r->np, "none");
	assert_null(r->sp);
	assert_null(r->email);
	assert_int_equal(r->nrecords, 1);
	assert_string_equal(r->records[0].source_ip, "2001:db8::1");
	assert_true(r->records[0].count == UINT64_MAX);
	assert_string_equal(r->records[0].header_from, "example.com");
	assert_null(r->records[0].envelope_from);
	assert_int_equal(r->records[0].ndkim, 2);
	assert_string_equal(r->records[0].dkim_results[0].selector, "s1");
	assert_null(r->records[0].dkim_results[1].selector);
	assert_string_equal(r->records[0].dkim_results[1].result, "fail");
	assert_int_equal(r->records[0].nspf, 1);
	assert_string_equal(r->records[0].spf_results[0].scope, "mfrom");
	assert_string_equal(r->records[0].spf_results[0].result, "softfail");
	spf_report_destroy(r);

	/* no records, missing dates */
	r = parse_ok("<feedback><policy_published><domain>x.example</domain>"
		"</policy_published></feedback>");
	assert_int_equal(r->nrecords, 0);
	assert_int_equal(r->begin, -1);
	spf_report_destroy(r);
}

static void test_invalid(void **state)
{
	(void)state;
	parse_bad("", "not XML");
	parse_bad("<feedback><report_metadata>", "not XML");
	parse_bad("<html/>", "the root element is <html>");
	parse_bad("<feedback/>", "neither <report_metadata> nor <policy_published>");
	parse_bad("<feedback><report_metadata/><record><row><count>1</count></row>"
		"</record></feedback>", "record 1 has no <source_ip>");
	parse_bad("<feedback><report_metadata/><record><row><source_ip>192.0.2.1"
		"</source_ip><count>18446744073709551616</count></row></record></feedback>",
		"record 1: count '18446744073709551616' is not a number");
	parse_bad("<feedback><report_metadata/><record><row><source_ip>192.0.2.1"
		"</source_ip><count>1</count></row></record><record><row><source_ip>"
		"fe80::1%eth0</source_ip><count>1</count></row></record></feedback>",
		"record 2: source_ip 'fe80::1%eth0' is not an IP address");
	parse_bad("<!DOCTYPE feedback SYSTEM 'http://example.com/x.dtd'><feedback/>",
		"DOCTYPE");
	parse_bad("<feedback><report_metadata><org_name>&ext;</org_name>"
		"</report_metadata></feedback>", "not XML");
}

/* data[0..len) written by libarchive as gzip (raw) or zip with files */
static size_t pack(bool zip, const char *const *names, const char *const *texts,
	size_t n, char *out, size_t cap)
{
	struct archive *a = archive_write_new();
	size_t used = 0;

	if (zip) {
		archive_write_set_format_zip(a);
	} else {
		archive_write_add_filter_gzip(a);
		archive_write_set_format_raw(a);
	}
	assert_int_equal(archive_write_open_memory(a, out, cap, &used), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();

		archive_entry_set_pathname(e, names[i]);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)strlen(texts[i]));
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		assert_int_equal(archive_write_data(a, texts[i], strlen(texts[i])),
			(la_ssize_t)strlen(texts[i]));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	return used;
}

static const char doc[] = "<feedback><report_metadata><org_name>o</org_name>"
	"</report_metadata></feedback>";

static void unwrap_ok(const void *data, size_t len, spf_wrap_t want)
{
	char why[256], *xml = NULL;
	size_t n = 0;
	spf_wrap_t kind;

	assert_int_equal(spf_report_unwrap(data, len, 0, &xml, &n, &kind, why,
		sizeof(why)), SPF_OK);
	assert_int_equal(kind, want);
	assert_int_equal(n, strlen(doc));
	assert_string_equal(xml, doc);
	spf_free(xml);
}

static void unwrap_bad(const void *data, size_t len, size_t max, const char *want)
{
	char why[256], *xml = NULL;
	size_t n = 0;

	assert_int_equal(spf_report_unwrap(data, len, max, &xml, &n, NULL, why,
		sizeof(why)), SPF_EINVAL);
	assert_null(xml);
	if (strstr(why, want) == NULL)
		fail_msg("why '%s' does not contain '%s'", why, want);
}

static void test_unwrap(void **state)
{
	static char buf[1 << 16], big[300000];
	const char *names[] = { "a.xml", "b.xml" }, *texts[] = { doc, doc };
	const char *bigtext[] = { big };
	size_t n;
	const char mail[] =
		"From: r@example.net\r\nTo: d@example.com\r\nSubject: report\r\n"
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
		"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
		"--b\r\nContent-Type: text/xml\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
		"<feedback><report_metadata><org_name>o</org_name></report_metada=\r\nta></feedback>\r\n"
		"--b--\r\n";

	(void)state;
	unwrap_ok(doc, strlen(doc), SPF_WRAP_XML);
	n = pack(false, names, texts, 1, buf, sizeof(buf));
	unwrap_ok(buf, n, SPF_WRAP_GZIP);
	n = pack(true, names, texts, 1, buf, sizeof(buf));
	unwrap_ok(buf, n, SPF_WRAP_ZIP);
	{
		char *xml = NULL, why[256];
		size_t xl;
		spf_wrap_t kind;

		assert_int_equal(spf_report_unwrap(mail, strlen(mail), 0, &xml, &xl,
			&kind, why, sizeof(why)), SPF_OK);
		assert_int_equal(kind, SPF_WRAP_MAIL);
		/* the part's last line break belongs to the boundary */
		assert_string_equal(xml, doc);
		spf_free(xml);
	}
	n = pack(true, names, texts, 2, buf, sizeof(buf));
	unwrap_bad(buf, n, 0, "more than one file");
	n = pack(false, names, texts, 1, buf, sizeof(buf));
	unwrap_bad(buf, n - 10, 0, "gzip");
	memset(big, 'x', sizeof(big) - 1);
	n = pack(false, names, bigtext, 1, buf, sizeof(buf));
	unwrap_bad(buf, n, 100000, "more than 100000 bytes once decompressed");
	n = pack(true, names, bigtext, 1, buf, sizeof(buf));
	unwrap_bad(buf, n, 100000, "more than 100000 bytes once decompressed");
	unwrap_bad("plain words", 11, 0, "neither XML, gzip, zip nor a mail message");
	unwrap_bad("Subject: x\r\n\r\nno report\r\n", 25, 0, "no report attached");
	unwrap_bad(doc, strlen(doc), 20, "more than 20 bytes");
}

static void mime_ok(const char *msg, const char *want)
{
	char why[256], *out = NULL;
	size_t n = 0;

	if (spf_report_mime(msg, strlen(msg), 0, &out, &n, why, sizeof(why)) != SPF_OK)
		fail_msg("%s", why);
	assert_non_null(out);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, n);
	assert_int_equal(out[n], '\0');
	spf_free(out);
}

static void mime_bad(const char *msg, size_t max, const char *want)
{
	char why[256], *out = NULL;
	size_t n = 0;

	assert_int_equal(spf_report_mime(msg, strlen(msg), max, &out, &n, why,
		sizeof(why)), SPF_EINVAL);
	assert_null(out);
	if (strstr(why, want) == NULL)
		fail_msg("why '%s' does not contain '%s'", why, want);
}

/* mime.c: the report part of a message as reporters send it */
static void test_mime(void **state)
{
	char deep[2048] = "Subject: deep\n";

	(void)state;
	/* LF line ends, a folded Content-Type with a quoted boundary, a
	 * preamble, transport padding after a delimiter, base64 with line
	 * breaks, the part found by its RFC 2231 file name */
	mime_ok("From: a@example.net\nMIME-Version: 1.0\nContent-Type: multipart/mixed;\n"
		"\tboundary=\"=_b (1)\"\n\npreamble\n--=_b (1)  \n"
		"Content-Type: text/plain\n\nhi\n--=_b (1)\n"
		"Content-Type: application/octet-stream\n"
		"Content-Disposition: attachment;\n filename*=utf-8''r%2Exml\n"
		"Content-Transfer-Encoding: BASE64\n\nPGZl\nZWRi\r\nYWNr\nLz4=\n"
		"--=_b (1)--\nepilogue\n", "<feedback/>");
	/* nested: multipart/alternative inside multipart/mixed, found by
	 * Content-Type; a line that starts like the delimiter is body */
	mime_ok("Content-Type: multipart/mixed; boundary=o\r\n\r\n"
		"--o\r\nContent-Type: multipart/alternative; boundary=\"i\"\r\n\r\n"
		"--i\r\nContent-Type: text/plain\r\n\r\nx\r\n--i--\r\n"
		"--o\r\nContent-Type: text/xml\r\n\r\n<a>\r\n--ox\r\n</a>\r\n--o--\r\n",
		"<a>\r\n--ox\r\n</a>");
	/* a message that is the attachment itself, named by Content-Type's
	 * name; quoted-printable */
	mime_ok("Subject: r\nContent-Type: application/octet-stream; name=\"r.xml.gz\"\n"
		"Content-Transfer-Encoding: quoted-printable\n\n=1F=8B=\nab=3D\n",
		"\x1f\x8b" "ab=\n");
	/* no close delimiter: the last part runs to the end */
	mime_ok("Content-Type: multipart/mixed; boundary=b\n\n--b\n"
		"Content-Type: application/gzip\n\nGZ", "GZ");
	mime_bad("Content-Type: multipart/mixed; boundary=b\n\n--b\n"
		"Content-Type: text/plain\n\nnothing\n--b--\n", 0, "no report attached");
	mime_bad("Content-Type: text/xml\nContent-Transfer-Encoding: x-uuencode\n\n<a/>",
		0, "unknown Content-Transfer-Encoding 'x-uuencode'");
	mime_bad("Content-Type: text/xml\n\n0123456789abcdefghij", 10,
		"more than 10 bytes once decoded");
	mime_bad("no header here\n", 0, "not a mail message");
	/* multiparts 12 deep: refused at 8, no recursion past it */
	for (int i = 0; i < 12; i++) {
		size_t n = strlen(deep);

		snprintf(deep + n, sizeof(deep) - n,
			"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
	}
	strcat(deep, "Content-Type: text/xml\n\n<a/>\n");
	mime_bad(deep, 0, "nested more than 8 deep");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_unwrap),
		cmocka_unit_test(test_mime),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
