/*
 * charset.c - the text of every command in ASCII when the terminal is not
 * UTF-8 (issue 17).
 *
 * DESCRIPTION
 *	spfcheck writes UTF-8: the tree of explain ("├─ "), arrows ("→"),
 *	"RFC 7208 §4.6.4" in every message (the one style, checked by
 *	tests/charset.sh).  Under LC_ALL=C or any locale whose character set
 *	is not UTF-8 these would show as mojibake, so cmd_charset_init()
 *	decides once, at start-up, from setlocale(LC_CTYPE, "") and
 *	nl_langinfo(CODESET), and then puts stdout and stderr behind a
 *	stream that writes each non-ASCII character as the ASCII of the
 *	table below ("§" is "section ", "├" is "|", "→" is "->"); any other
 *	non-ASCII byte (a U-label typed by the user, text from DNS) is
 *	written as \xNN.  Every command goes through it without knowing, so
 *	no message, from cmd/ or from the evaluator, needs a second form.
 *	JSON is UTF-8 whatever the locale: --json (common_opt()) calls
 *	cmd_charset_raw(), which lets stdout's bytes through unchanged.
 *	LC_CTYPE is set back to "C" after the decision, so nothing else
 *	(ctype.h, libidn2) sees the user's locale.
 *
 * DIAGNOSTICS
 *	A write error on the descriptor is the stream's error (ferror()),
 *	as it would be on the plain stream.  If the stream cannot be made
 *	(fopencookie() fails) the plain stream stays.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cmd.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Each non-ASCII character spfcheck's own text uses, and its ASCII.
 * Same width where it lines up a tree (the box drawing). */
static const struct {
	uint32_t cp;
	const char *ascii;
} symbols[] = {
	{ 0x00A7, "section " },   /* § */
	{ 0x2192, "->" },         /* → */
	{ 0x2190, "<-" },         /* ← */
	{ 0x25C0, "<-" },         /* ◀ */
	{ 0x2500, "-" },          /* ─ */
	{ 0x2502, "|" },          /* │ */
	{ 0x251C, "|" },          /* ├ */
	{ 0x2514, "`" },          /* └ */
	{ 0x2026, "..." },        /* … */
	{ 0x2013, "-" },          /* – */
	{ 0x2014, "--" },         /* — */
	{ 0x2018, "'" },          /* ‘ */
	{ 0x2019, "'" },          /* ’ */
	{ 0x201C, "\"" },         /* “ */
	{ 0x201D, "\"" },         /* ” */
	{ 0x2264, "<=" },         /* ≤ */
	{ 0x2265, ">=" },         /* ≥ */
	{ 0x2260, "!=" },         /* ≠ */
	{ 0x00D7, "x" },          /* × */
	{ 0x2022, "*" },          /* • */
	{ 0x00B7, "." },          /* · */
	{ 0x2713, "ok" },         /* ✓ */
	{ 0x2717, "x" },          /* ✗ */
	{ 0x26A0, "!" },          /* ⚠ */
};

struct ascii_stream {
	int fd;
	bool raw;                  /* JSON: bytes through unchanged */
	unsigned char pend[4];     /* a character cut by a buffer flush */
	size_t npend;
};

static bool utf8 = true;
static struct ascii_stream out_stream = { .fd = STDOUT_FILENO };
static struct ascii_stream err_stream = { .fd = STDERR_FILENO };
static bool installed;

bool cmd_utf8(void)
{
	return utf8;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The length of the UTF-8 sequence that starts with byte c (0: not a
 * start byte). */
static size_t seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return 2;
	if (c >= 0xE0 && c <= 0xEF)
		return 3;
	if (c >= 0xF0 && c <= 0xF4)
		return 4;
	return 0;
}

/* Append the ASCII of the n-byte character s (valid or not) to buf. */
static void ascii_of(spf_buf_t *buf, const unsigned char *s, size_t n)
{
	uint32_t cp = 0;
	bool ok = n > 1 && seq_len(s[0]) == n;

	if (ok) {
		cp = s[0] & (0x7F >> n);
		for (size_t i = 1; i < n; i++) {
			if ((s[i] & 0xC0) != 0x80)
				ok = false;
			cp = cp << 6 | (s[i] & 0x3F);
		}
	}
	for (size_t i = 0; ok && i < sizeof symbols / sizeof symbols[0]; i++)
		if (symbols[i].cp == cp) {
			spf_buf_puts(buf, symbols[i].ascii);
			return;
		}
	spf_buf_escape(buf, (const char *)s, n, SPF_ESC_HEX, 0);
}

static ssize_t ascii_write(void *cookie, const char *data, size_t size)
{
	struct ascii_stream *st = cookie;
	const unsigned char *p = (const unsigned char *)data;
	spf_buf_t buf;
	size_t i = 0, start;
	int rc = 0;

	if (st->raw && st->npend == 0)
		return write_all(st->fd, data, size) == 0 ? (ssize_t)size : -1;
	spf_buf_init(&buf, size * 8 + 64);
	/* the end of a character cut by the last flush */
	while (st->npend > 0 && i < size) {
		size_t want = seq_len(st->pend[0]);

		if ((p[i] & 0xC0) != 0x80) {
			ascii_of(&buf, st->pend, st->npend);   /* cut short */
			st->npend = 0;
			break;
		}
		st->pend[st->npend++] = p[i++];
		if (st->npend == want) {
			if (st->raw)
				spf_buf_append(&buf, (const char *)st->pend, st->npend);
			else
				ascii_of(&buf, st->pend, st->npend);
			st->npend = 0;
		}
	}
	while (i < size) {
		size_t n;

		for (start = i; i < size && p[i] < 0x80; i++)
			;
		spf_buf_append(&buf, data + start, i - start);
		if (i == size)
			break;
		if (st->raw) {
			spf_buf_append(&buf, data + i, size - i);
			break;
		}
		n = seq_len(p[i]);
		if (n == 0) {
			ascii_of(&buf, p + i, 1);
			i++;
			continue;
		}
		if (i + n > size) {          /* cut by the flush: wait for the rest */
			size_t k = 1;

			while (i + k < size && (p[i + k] & 0xC0) == 0x80)
				k++;
			if (i + k == size) {
				memcpy(st->pend, p + i, k);
				st->npend = k;
				break;
			}
			n = k;                   /* cut short: not UTF-8 */
		}
		{
			size_t k = 1;

			while (k < n && (p[i + k] & 0xC0) == 0x80)
				k++;
			ascii_of(&buf, p + i, k);
			i += k;
		}
	}
	if (buf.err != SPF_OK)
		rc = -1;
	else
		rc = write_all(st->fd, buf.data != NULL ? buf.data : "", buf.len);
	spf_buf_finish(&buf);
	return rc == 0 ? (ssize_t)size : -1;
}

static FILE *wrap(struct ascii_stream *st, FILE *plain, int mode)
{
	cookie_io_functions_t io = { .write = ascii_write };
	FILE *f;

	fflush(plain);
	f = fopencookie(st, "w", io);
	if (f == NULL)
		return plain;
	setvbuf(f, NULL, mode, mode == _IONBF ? 0 : BUFSIZ);
	return f;
}

/* At exit: what a last flush leaves cut short is written as \xNN. */
static void flush_pending(void)
{
	struct ascii_stream *sts[] = { &out_stream, &err_stream };

	fflush(stdout);
	fflush(stderr);
	for (size_t i = 0; i < 2; i++) {
		spf_buf_t buf;

		if (sts[i]->npend == 0)
			continue;
		spf_buf_init(&buf, 64);
		spf_buf_escape(&buf, (const char *)sts[i]->pend, sts[i]->npend, SPF_ESC_HEX, 0);
		if (buf.err == SPF_OK && buf.data != NULL)
			(void)write_all(sts[i]->fd, buf.data, buf.len);
		spf_buf_finish(&buf);
		sts[i]->npend = 0;
	}
}

void cmd_charset_init(void)
{
	const char *cs;

	if (setlocale(LC_CTYPE, "") != NULL) {
		cs = nl_langinfo(CODESET);
		utf8 = cs != NULL && (strcasecmp(cs, "UTF-8") == 0 ||
			strcasecmp(cs, "UTF8") == 0);
	} else {
		utf8 = false;   /* a locale that does not exist: the C locale */
	}
	setlocale(LC_CTYPE, "C");
	if (utf8 || installed)
		return;
	installed = true;
	stdout = wrap(&out_stream, stdout, isatty(STDOUT_FILENO) == 1 ? _IOLBF : _IOFBF);
	stderr = wrap(&err_stream, stderr, _IONBF);
	atexit(flush_pending);
}

void cmd_charset_raw(void)
{
	if (!installed)
		return;
	fflush(stdout);
	out_stream.raw = true;
}
