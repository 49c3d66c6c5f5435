/*
 * html.c - the one writer of spfcheck's HTML pages (issue 20): escaping
 * of untrusted text, and the page around it.
 *
 * DESCRIPTION
 *	A TXT record is text chosen by whoever controls the zone, and a
 *	DMARC report by whoever sent it: everything of theirs goes through
 *	html_textn(), which writes markup characters as references, bytes
 *	that are not well-formed UTF-8 and controls as \xHH, and characters
 *	that reorder or hide text (bidi overrides, zero-width joiners) as
 *	\u{XXXX}, so a page shows each byte that was published and nothing
 *	published can become markup or disguise its neighbours.
 *
 *	The pages have no script at all: collapsing is <details>, hover is
 *	the title attribute, charts are inline SVG.  html_begin() writes a
 *	Content-Security-Policy meta element that forbids scripts and every
 *	fetch (default-src 'none'; styles inline, images data: only) as a
 *	second wall should an escape ever be missed.  System fonts only.
 *
 * DIAGNOSTICS
 *	None: write errors are the stream's (the caller checks ferror()).
 */
#include "html.h"

#include <stdint.h>
#include <string.h>

/* Characters shown by their code point: C1 controls, and those that
 * change the order or the visibility of the text around them. */
static bool hidden_char(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x00ad ||
		(cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
		(cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff;
}

/* The length (2-4) of the well-formed UTF-8 sequence at s (n bytes
 * available) and its code point, or 0 when it is not one (RFC 3629 §4:
 * no overlong forms, no surrogates, nothing past U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		*cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		*cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		*cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	*cp = (*cp << 6) | (s[1] & 0x3f);
	for (size_t i = 2; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	return len;
}

void html_textn(FILE *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		uint32_t cp;
		size_t seq;

		switch (c) {
		case '<': fputs("&lt;", out); i++; continue;
		case '>': fputs("&gt;", out); i++; continue;
		case '&': fputs("&amp;", out); i++; continue;
		case '"': fputs("&quot;", out); i++; continue;
		case '\'': fputs("&#39;", out); i++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(out, "\\x%02X", c);
			i++;
		} else if (c < 0x80) {
			fputc(c, out);
			i++;
		} else if ((seq = utf8_seq(p + i, len - i, &cp)) == 0) {
			fprintf(out, "\\x%02X", c);
			i++;
		} else if (hidden_char(cp)) {
			fprintf(out, "\\u{%04X}", (unsigned)cp);
			i += seq;
		} else {
			fwrite(p + i, 1, seq, out);
			i += seq;
		}
	}
}

void html_text(FILE *out, const char *s)
{
	if (s != NULL)
		html_textn(out, s, strlen(s));
}

void html_result(FILE *out, const char *result)
{
	fputs("<span class=\"r r-", out);
	html_text(out, result);
	fputs("\">", out);
	html_text(out, result);
	fputs("</span>", out);
}

/* The style sheet: one set of colour variables per theme, print in black
 * on white with every <details> open. */
static const char style[] =
	":root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#59636e;"
	"--line:#d1d9e0;--card:#f6f8fa;--pass:#1a7f37;--fail:#cf222e;"
	"--softfail:#9a6700;--neutral:#0969da;--err:#8250df;--mark:#fff8c5;"
	"--badge:#fff}\n"
	"@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;"
	"--muted:#9198a1;--line:#3d444d;--card:#151b23;--pass:#3fb950;"
	"--fail:#f85149;--softfail:#d29922;--neutral:#4493f8;--err:#ab7df8;"
	"--mark:#3b2e00;--badge:#0d1117}}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0 auto;max-width:76rem;padding:1.2rem 1.5rem;"
	"background:var(--bg);color:var(--fg);"
	"font:15px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif}\n"
	"code,pre,.mono{font-family:ui-monospace,\"DejaVu Sans Mono\",Menlo,"
	"Consolas,monospace;font-size:.9em}\n"
	"pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:.3rem 0}\n"
	"code{overflow-wrap:anywhere}\n"
	"h1{font-size:1.4rem;margin:.2rem 0 .4rem}\n"
	"h2{font-size:1.12rem;margin:1.5rem 0 .5rem;padding-bottom:.2rem;"
	"border-bottom:1px solid var(--line)}\n"
	"h3{font-size:1rem;margin:1rem 0 .3rem}\n"
	".sub{color:var(--muted);margin:0 0 .8rem}\n"
	".r{display:inline-block;padding:0 .45em;border-radius:.3em;"
	"font-weight:600;color:var(--badge);background:var(--err)}\n"
	".r-pass{background:var(--pass)}.r-fail{background:var(--fail)}"
	".r-softfail{background:var(--softfail)}"
	".r-neutral,.r-none{background:var(--neutral)}\n"
	".verdict{font-size:1.05rem;padding:.6rem .8rem;border-left:4px solid "
	"var(--line);background:var(--card);border-radius:.3rem}\n"
	".cards{display:flex;flex-wrap:wrap;gap:.6rem;margin:.8rem 0}\n"
	".card{border:1px solid var(--line);background:var(--card);"
	"border-radius:.4rem;padding:.35rem .8rem;min-width:8rem}\n"
	".card b{display:block;font-size:1.35rem}\n"
	".card>span{color:var(--muted);font-size:.85rem}\n"
	".over,.card.over b{color:var(--fail)}\n"
	"ul.tree{list-style:none;margin:.1rem 0;padding-left:1.2rem;"
	"border-left:1px solid var(--line)}\n"
	"ul.tree>li{margin:.12rem 0}\n"
	"details>summary{cursor:pointer}\n"
	".dim,.ttl,.cnt,.note{color:var(--muted)}\n"
	".ttl,.cnt{font-size:.85em;white-space:nowrap}\n"
	".dns code{color:var(--neutral)}\n"
	".deciding{background:var(--mark);outline:2px solid var(--fail);"
	"border-radius:.25rem;padding:0 .25rem}\n"
	".decides{font-weight:700}\n"
	".beyond{color:var(--err)}\n"
	"table{border-collapse:collapse;margin:.4rem 0;width:100%}\n"
	"th,td{text-align:left;padding:.2rem .5rem;border-bottom:1px solid "
	"var(--line);vertical-align:top}\n"
	"th{font-weight:600;color:var(--muted)}\n"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
	"tr.over td{color:var(--fail)}\n"
	".u{text-decoration:underline wavy;text-underline-offset:.25em;"
	"color:inherit}\n"
	".s-error{text-decoration-color:var(--fail)}"
	".s-warning{text-decoration-color:var(--softfail)}"
	".s-info{text-decoration-color:var(--neutral)}\n"
	".sev{font-weight:600}.sev.s-error{color:var(--fail)}"
	".sev.s-warning{color:var(--softfail)}.sev.s-info{color:var(--neutral)}\n"
	".finding:target{background:var(--mark)}\n"
	".clean{color:var(--pass);font-weight:600}\n"
	"svg.bar{display:block;width:100%;max-width:32rem;height:1rem}\n"
	"svg .pass{fill:var(--pass)}svg .fail{fill:var(--fail)}"
	"svg .softfail{fill:var(--softfail)}svg .neutral,svg .none"
	"{fill:var(--neutral)}svg .permerror,svg .temperror,svg .other"
	"{fill:var(--err)}svg .empty{fill:var(--line)}\n"
	".legend span{margin-right:.8rem;white-space:nowrap}\n"
	".explain{border-left:3px solid var(--line);padding:0 0 0 .8rem;"
	"margin:.4rem 0}\n"
	"footer{margin-top:2rem;color:var(--muted);font-size:.8rem}\n"
	"@media print{:root{--bg:#fff;--fg:#000;--muted:#444;--line:#999;"
	"--card:#fff;--mark:#eee;--badge:#fff}"
	"body{max-width:none;padding:0;font-size:10.5pt}"
	"details::details-content{content-visibility:visible;display:contents}"
	"summary{list-style:none}a{color:inherit;text-decoration:none}"
	"h2{break-after:avoid}li,tr{break-inside:avoid}"
	"*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

void html_begin(FILE *out, const char *title, const char *generator)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
		"<meta charset=\"utf-8\">\n"
		"<meta http-equiv=\"Content-Security-Policy\" content=\""
		"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
		"<meta name=\"viewport\" content=\"width=device-width, "
		"initial-scale=1\">\n"
		"<meta name=\"generator\" content=\"", out);
	html_text(out, generator);
	fputs("\">\n<title>", out);
	html_text(out, title);
	fputs("</title>\n<style>\n", out);
	fputs(style, out);
	fputs("</style>\n</head>\n<body>\n", out);
}

void html_end(FILE *out)
{
	fputs("<footer>Made by spfcheck: no script, nothing fetched; "
		"every text from DNS or a report is shown escaped.</footer>\n"
		"</body>\n</html>\n", out);
}
