/*
 * policy_proto.c - the Postfix policy delegation request parser.
 *
 * DESCRIPTION
 *	Reads "name=value" lines (SMTPD_POLICY_README; SPECS C.1) until an
 *	empty line ends the request.  The attributes spfcheck uses are kept
 *	(copied into the request's store, one buffer reused from request to
 *	request); the others are counted and dropped.  The
 *	parser never looks past the LF of the empty line, so a persistent
 *	connection can carry any number of requests, and the caller decides
 *	when to read the next one (one request answered at a time).
 *
 * DIAGNOSTICS
 *	Each error is a static English string in parser->error:
 *	a line over 8192 bytes, a NUL byte, a line without '=', an empty
 *	attribute name, too many attributes, a request over 64 KiB, an empty
 *	line with no request before it, a request without
 *	request=smtpd_access_policy, out of memory.  Nothing is written or
 *	logged here.
 */
#include "policy.h"

#include <string.h>

static const struct {
	const char *name;
	size_t len;
} attrs[POLICY_A_COUNT] = {
#define A(a, n) [a] = { n, sizeof(n) - 1 }
	A(POLICY_A_REQUEST, "request"),
	A(POLICY_A_PROTOCOL_STATE, "protocol_state"),
	A(POLICY_A_PROTOCOL_NAME, "protocol_name"),
	A(POLICY_A_CLIENT_ADDRESS, "client_address"),
	A(POLICY_A_CLIENT_NAME, "client_name"),
	A(POLICY_A_HELO_NAME, "helo_name"),
	A(POLICY_A_SENDER, "sender"),
	A(POLICY_A_RECIPIENT, "recipient"),
	A(POLICY_A_QUEUE_ID, "queue_id"),
	A(POLICY_A_INSTANCE, "instance"),
	A(POLICY_A_SASL_USERNAME, "sasl_username"),
#undef A
};


const char *policy_req_get(const policy_request_t *req, policy_attr_t a)
{
	const char *v = req->value[a];

	return v != NULL ? v : "";
}

void policy_request_clear(policy_request_t *req)
{
	spf_free(req->store);
	memset(req, 0, sizeof(*req));
}

void policy_request_reset(policy_request_t *req)
{
	char *store = req->store;
	size_t cap = req->store_cap;

	memset(req, 0, sizeof(*req));
	req->store = store;
	req->store_cap = cap;
}

/* Append value[0..len) and a NUL to req's store; its place + 1, or 0
 * when memory runs out.  The store is bounded by the request's bytes
 * (POLICY_MAX_REQUEST): each value is a line's tail, its NUL the
 * line end's place. */
static size_t store_value(policy_request_t *req, const char *value, size_t len)
{
	size_t at = req->store_len;

	if (req->store_cap - at < len + 1) {
		size_t cap = req->store_cap ? req->store_cap : 256;
		char *p;

		while (cap - at < len + 1)
			cap *= 2;
		p = spf_realloc(req->store, cap);
		if (p == NULL)
			return 0;
		req->store = p;
		req->store_cap = cap;
	}
	memcpy(req->store + at, value, len);
	req->store[at + len] = '\0';
	req->store_len = at + len + 1;
	return at + 1;
}

void policy_parser_init(policy_parser_t *p)
{
	memset(p, 0, sizeof(*p));
}

void policy_parser_finish(policy_parser_t *p)
{
	policy_request_clear(&p->req);
	p->error = NULL;
}

/* One non-empty line (without its line end); NULL or an error text. */
static const char *take_line(policy_request_t *req, const char *line, size_t len)
{
	const char *eq = memchr(line, '=', len);
	size_t nlen;

	if (eq == NULL)
		return "a line without '=' (not name=value)";
	nlen = (size_t)(eq - line);
	if (nlen == 0)
		return "an attribute with an empty name";
	if (++req->nattrs > POLICY_MAX_ATTRS)
		return "more than 128 attributes in one request";
	for (int i = 0; i < POLICY_A_COUNT; i++) {
		if (attrs[i].len == nlen && attrs[i].name[0] == line[0] &&
		    memcmp(attrs[i].name, line, nlen) == 0) {
			/* a duplicate's first value stays in the store,
			 * unused */
			size_t at = store_value(req, eq + 1, len - nlen - 1);

			if (at == 0)
				return "out of memory";
			req->off[i] = at;
			break;
		}
	}
	return NULL;
}

/* The request is complete: point value[] into the store. */
static void set_values(policy_request_t *req)
{
	for (int i = 0; i < POLICY_A_COUNT; i++)
		req->value[i] = req->off[i] ? req->store + req->off[i] - 1 : NULL;
}

policy_parse_status_t policy_parse(policy_parser_t *p, const char *data,
	size_t len, size_t *used)
{
	size_t pos = 0;
	policy_parse_status_t st = POLICY_PARSE_MORE;

	p->error = NULL;
	for (;;) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t llen, full;

		if (nl == NULL) {
			if (len - pos > POLICY_MAX_LINE + 1) {
				p->error = "a line longer than 8192 bytes";
				st = POLICY_PARSE_ERROR;
			} else if (memchr(data + pos, '\0', len - pos) != NULL) {
				p->error = "a NUL byte in the request";
				st = POLICY_PARSE_ERROR;
			}
			break;
		}
		full = (size_t)(nl - (data + pos)) + 1;
		llen = full - 1;
		if (llen > 0 && data[pos + llen - 1] == '\r')
			llen--;
		if (llen > POLICY_MAX_LINE) {
			p->error = "a line longer than 8192 bytes";
			st = POLICY_PARSE_ERROR;
			break;
		}
		if (memchr(data + pos, '\0', llen) != NULL) {
			p->error = "a NUL byte in the request";
			st = POLICY_PARSE_ERROR;
			break;
		}
		p->req.bytes += full;
		pos += full;
		if (p->req.bytes > POLICY_MAX_REQUEST) {
			p->error = "a request longer than 65536 bytes";
			st = POLICY_PARSE_ERROR;
			break;
		}
		if (llen == 0) {
			set_values(&p->req);
			if (p->req.nattrs == 0) {
				p->error = "an empty line with no request before it";
				st = POLICY_PARSE_ERROR;
			} else if (p->req.value[POLICY_A_REQUEST] == NULL) {
				p->error = "a request without request=";
				st = POLICY_PARSE_ERROR;
			} else if (strcmp(p->req.value[POLICY_A_REQUEST],
					"smtpd_access_policy") != 0) {
				p->error = "request= is not smtpd_access_policy";
				st = POLICY_PARSE_ERROR;
			} else {
				st = POLICY_PARSE_REQUEST;
			}
			break;
		}
		p->error = take_line(&p->req, data + pos - full, llen);
		if (p->error != NULL) {
			st = POLICY_PARSE_ERROR;
			break;
		}
	}
	*used = pos;
	return st;
}
