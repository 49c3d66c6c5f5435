/*
 * rr.c - one ldns resource record to one answer record.
 *
 * DESCRIPTION
 *	Both ways ldns hands spfcheck records meet here: replies parsed
 *	from the wire (wire2answer.c) and RFC 1035 master files
 *	(zone.c).  spf_rr_from_ldns() reads the rdata of the types spfcheck
 *	uses into a spf_dns_rr_t whose strings it allocates:
 *
 *	  - A / AAAA: one rdf of 4 / 16 bytes;
 *	  - MX: a 2-byte preference and a domain name;
 *	  - PTR, CNAME, NS: one domain name;
 *	  - TXT, SPF: the <character-string>s (a length byte, then that
 *	    many bytes) joined, with the length of each kept (RFC 7208
 *	    §3.3);
 *	  - any other type: type and TTL only (spf_rr_reads_type() says
 *	    which types carry data).
 *
 *	Domain names take one of two text forms (spf_rr_name_t): the
 *	presentation form ldns prints, without the trailing dot, with \DDD
 *	and \. escapes that c-ares reads back (replies), or labels joined
 *	with '.' in lower case, where a label holding '.' or NUL has no form
 *	(zone files, whose names are the zone's keys).
 *
 * DIAGNOSTICS
 *	SPF_ESYNTAX for rdata that is not what the type needs (or a name
 *	with no text form), SPF_ENOMEM.  On failure nothing is left
 *	allocated.
 */
#include "dns_internal.h"

#include <string.h>

#include <ldns/ldns.h>

/*
 * The presentation text ldns prints (ldns_rdf2str()), without the trailing
 * dot, written here in one pass: ldns formats it one printf per byte, which
 * cost more than parsing the whole reply.  Per byte of a label: '.', ';',
 * '(', ')' and '\\' get a backslash; bytes that are not printable ASCII
 * (isgraph) become \DDD in decimal; the rest stay.  Labels are joined with
 * '.'; the root is "".  test_wire compares it with ldns for every byte.
 */
static spf_status_t presentation_text(const ldns_rdf *rdf, char **out)
{
	const uint8_t *p = ldns_rdf_data(rdf);
	size_t size = ldns_rdf_size(rdf), pos = 0;
	char *text, *w;

	if (size < 1 || size > LDNS_MAX_DOMAINLEN)
		return SPF_ESYNTAX;
	/* at most 4 characters a byte ("\DDD") */
	text = w = spf_malloc(4 * size + 1);
	if (text == NULL)
		return SPF_ENOMEM;
	while (pos < size && p[pos] != 0) {
		size_t lablen = p[pos++];

		if (lablen > size - pos) {
			spf_free(text);
			return SPF_ESYNTAX;
		}
		if (w != text)
			*w++ = '.';
		for (size_t i = 0; i < lablen; i++) {
			unsigned char c = p[pos + i];

			if (c == '.' || c == ';' || c == '(' || c == ')' || c == '\\') {
				*w++ = '\\';
				*w++ = (char)c;
			} else if (c < 0x21 || c > 0x7e) {
				*w++ = '\\';
				*w++ = (char)('0' + c / 100);
				*w++ = (char)('0' + c / 10 % 10);
				*w++ = (char)('0' + c % 10);
			} else {
				*w++ = (char)c;
			}
		}
		pos += lablen;
	}
	*w = '\0';
	*out = text;
	return SPF_OK;
}

/* Labels joined with '.', lower case; a label holding '.' or NUL:
 * SPF_ESYNTAX. */
static spf_status_t plain_text(const ldns_rdf *rdf, char **out)
{
	const uint8_t *p = ldns_rdf_data(rdf);
	size_t size = ldns_rdf_size(rdf), pos = 0;
	spf_buf_t buf;
	spf_status_t st;

	spf_buf_init(&buf, 1024);
	spf_buf_puts(&buf, "");
	while (pos < size && p[pos] != 0) {
		size_t lablen = p[pos++];

		if (lablen > size - pos) {
			spf_buf_finish(&buf);
			return SPF_ESYNTAX;
		}
		for (size_t i = 0; i < lablen; i++) {
			if (p[pos + i] == '.' || p[pos + i] == '\0') {
				spf_buf_finish(&buf);
				return SPF_ESYNTAX;
			}
		}
		if (buf.len > 0)
			spf_buf_putc(&buf, '.');
		spf_buf_append(&buf, p + pos, lablen);
		pos += lablen;
	}
	st = buf.err;
	if (st != SPF_OK) {
		spf_buf_finish(&buf);
		return st == SPF_ETOOBIG ? SPF_ESYNTAX : st;
	}
	for (size_t i = 0; i < buf.len; i++)
		buf.data[i] = spf_lower(buf.data[i]);
	*out = buf.data;
	return SPF_OK;
}

spf_status_t spf_rr_dname_text(const ldns_rdf *rdf, spf_rr_name_t form,
	char **out)
{
	*out = NULL;
	if (rdf == NULL || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME)
		return SPF_ESYNTAX;
	return form == SPF_RR_NAME_PLAIN ? plain_text(rdf, out)
		: presentation_text(rdf, out);
}

bool spf_rr_reads_type(uint16_t type)
{
	switch (type) {
	case SPF_RR_A:
	case SPF_RR_AAAA:
	case SPF_RR_MX:
	case SPF_RR_PTR:
	case SPF_RR_CNAME:
	case SPF_RR_NS:
	case SPF_RR_TXT:
	case SPF_RR_SPF:
		return true;
	default:
		return false;
	}
}

/* TXT / SPF: the character-strings joined, each one's length kept. */
static spf_status_t txt_from_ldns(const ldns_rr *lr, spf_rr_buf_t *b)
{
	size_t n = ldns_rr_rd_count(lr), total = 0, off = 0;
	uint8_t *data;
	uint16_t *lens;

	/* each rdf is one <character-string>: a length byte, then that
	 * many bytes (ldns checked the lengths) */
	for (size_t i = 0; i < n; i++) {
		const ldns_rdf *rdf = ldns_rr_rdf(lr, i);

		if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_STR
		    || ldns_rdf_size(rdf) < 1
		    || ldns_rdf_data(rdf)[0] != ldns_rdf_size(rdf) - 1)
			return SPF_ESYNTAX;
		total += ldns_rdf_size(rdf) - 1;
	}
	b->data = data = spf_malloc(total + 1);
	b->lens = lens = spf_calloc(n > 0 ? n : 1, sizeof *lens);
	if (data == NULL || lens == NULL)
		return SPF_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const ldns_rdf *rdf = ldns_rr_rdf(lr, i);
		size_t l = ldns_rdf_size(rdf) - 1;

		memcpy(data + off, ldns_rdf_data(rdf) + 1, l);
		lens[i] = (uint16_t)l;
		off += l;
	}
	data[total] = '\0';
	b->rr.u.txt.data = data;
	b->rr.u.txt.len = total;
	b->rr.u.txt.nstrings = n;
	b->rr.u.txt.lens = lens;
	return SPF_OK;
}

spf_status_t spf_rr_from_ldns(const ldns_rr *lr, spf_rr_name_t form,
	spf_rr_buf_t *b)
{
	spf_dns_rr_t *rr = &b->rr;
	size_t n = ldns_rr_rd_count(lr);
	spf_status_t st = SPF_OK;

	memset(b, 0, sizeof *b);
	rr->type = (uint16_t)ldns_rr_get_type(lr);
	rr->ttl = ldns_rr_ttl(lr);

	switch (rr->type) {
	case SPF_RR_A:
	case SPF_RR_AAAA: {
		const ldns_rdf *rdf = n == 1 ? ldns_rr_rdf(lr, 0) : NULL;
		size_t want = rr->type == SPF_RR_A ? 4 : 16;

		if (rdf == NULL || ldns_rdf_size(rdf) != want)
			return SPF_ESYNTAX;
		memcpy(rr->type == SPF_RR_A ? rr->u.a : rr->u.aaaa,
			ldns_rdf_data(rdf), want);
		break;
	}
	case SPF_RR_MX: {
		const ldns_rdf *pref = n == 2 ? ldns_rr_rdf(lr, 0) : NULL;

		if (pref == NULL || ldns_rdf_size(pref) != 2)
			return SPF_ESYNTAX;
		st = spf_rr_dname_text(ldns_rr_rdf(lr, 1), form, &b->name);
		rr->u.mx.preference = ldns_rdf2native_int16(pref);
		rr->u.mx.exchange = b->name;
		break;
	}
	case SPF_RR_PTR:
	case SPF_RR_CNAME:
	case SPF_RR_NS:
		if (n != 1)
			return SPF_ESYNTAX;
		st = spf_rr_dname_text(ldns_rr_rdf(lr, 0), form, &b->name);
		rr->u.name = b->name;
		break;
	case SPF_RR_TXT:
	case SPF_RR_SPF:
		st = txt_from_ldns(lr, b);
		break;
	default:
		/* other types carry nothing spfcheck reads */
		break;
	}
	if (st != SPF_OK)
		spf_rr_finish(b);
	return st;
}

void spf_rr_finish(spf_rr_buf_t *b)
{
	if (b == NULL)
		return;
	spf_free(b->name);
	spf_free(b->data);
	spf_free(b->lens);
	memset(b, 0, sizeof *b);
}
