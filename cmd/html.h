/*
 * html.h - the one writer of spfcheck's HTML pages (issue 20): escaping
 * of untrusted text, and the page around it (inline CSS, no script).
 *
 * Every byte that comes from DNS, a report or the command line goes
 * through html_text()/html_textn(); nothing else writes such bytes into
 * a page.  Both are safe in element content and in double- or
 * single-quoted attribute values.
 */
#ifndef SPF_CMD_HTML_H
#define SPF_CMD_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Write the len bytes of s (NUL included) as HTML text: '<', '>', '&',
 * '"' and '\'' as character references; C0 controls, DEL, bytes that do
 * not form well-formed UTF-8 (overlong forms and surrogates included)
 * as \xHH; the C1 controls and the Unicode characters that reorder or
 * hide text (bidi embeddings, overrides and isolates, LRM/RLM/ALM, zero
 * width joiners, U+2028/2029, U+FEFF) as \u{XXXX}; any other UTF-8
 * character as it is.  The result is one line of text that shows every
 * byte, and that no input can end or leave.
 */
void html_textn(FILE *out, const char *s, size_t len);
/* The same for a C string; NULL writes nothing. */
void html_text(FILE *out, const char *s);

/*
 * The start of a page, up to and including <body>: the doctype, UTF-8,
 * a Content-Security-Policy that allows no script and no fetch (style
 * inline, images as data: only), title (escaped), the style sheet
 * (light and dark themes, print).  generator names the command
 * ("spfcheck explain") in a meta element.
 */
void html_begin(FILE *out, const char *title, const char *generator);
/* The footer line and </body></html>. */
void html_end(FILE *out);

/* A result ("pass", ...) as a badge: <span class="r r-pass">pass</span>. */
void html_result(FILE *out, const char *result);

#endif
