/*
 * fixture.c - a DNS server for tests, answering from an spf_zone_t.
 *
 * DESCRIPTION
 *	One UDP socket and one listening TCP socket on the same loopback
 *	port, each watched by a persistent libevent event on the caller's
 *	event_base.  Every message goes through answer_query(): ldns parses
 *	the query (ldns_wire2pkt), the zone answers (spf_zone_lookup), ldns
 *	builds the reply (ldns_pkt2wire).  The mapping from zone answers to
 *	replies, and what is ignored, is described in fixture.h.
 *
 *	Names on the wire are turned into our text form (labels joined with
 *	'.', lower case, no trailing dot) by hand, label by label, so that
 *	any octet in a label is seen as it is; a label holding '.' or NUL has
 *	no such form and cannot be in a zone, so it is answered NXDOMAIN.
 *	Names from the zone are turned back into wire form the same way
 *	(never through ldns' presentation-format parser, which would read
 *	backslashes as escapes).
 *
 *	TCP connections (RFC 1035 §4.2.2 / RFC 7766 framing) have a fixed
 *	input buffer that holds one maximal message, so a partial message
 *	simply waits for more bytes; replies go to a growable output buffer
 *	flushed with send(MSG_NOSIGNAL) whenever the socket is writable, so
 *	a client that hung up never raises SIGPIPE.
 *
 *	With a latency set, each reply is parked with a one-shot timer and
 *	sent when it fires; parked replies for a TCP connection die with it.
 *	FIX_LATE parks the replies of its names for the late delay instead.
 *
 *	Hostile modes (fixture.h) act at two points: the ones that need other
 *	records (wrong type, CNAME loop, 1000 MX, 64 KB of TXT) build their
 *	reply with ldns, so the UDP size limit still applies and a big reply
 *	goes TC=1 over UDP and whole over TCP; the ones that need bytes no
 *	encoder writes (a bad ID or question, a compression-pointer loop, bad
 *	RDATA, a cut answer record, a cut header) spoil the finished wire
 *	reply in spoil().
 *
 * DIAGNOSTICS
 *	fixture_start() prints why a socket could not be set up to stderr.
 *	At run time nothing is printed: junk is ignored, send errors drop
 *	the reply (UDP) or close the connection (TCP), and every limit
 *	(connections, parked replies, output buffer, log entries) sheds load
 *	rather than growing.
 */
#include "fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#define MSG_MAX 65535             /* largest DNS message (two-byte length) */
#define UDP_PLAIN_MAX 512         /* RFC 1035 §2.3.4 without EDNS0 */
#define EDNS_REPLY_SIZE 4096      /* payload size we advertise back */
#define UDP_BATCH 64              /* datagrams read per wake-up */
#define ACCEPT_BATCH 16           /* connections accepted per wake-up */
#define MAX_TCP_CONNS 64
#define MAX_PENDING 4096          /* delayed replies in flight */
#define MAX_LOG_KEYS 16384        /* distinct (name, type) in the log */
#define MAX_MODES 4096
#define TCP_OUT_MAX (1024 * 1024) /* unsent bytes before we give up on a client */
#define TCP_IDLE_MS_DEFAULT 5000
#define NAME_TEXT_MAX 256         /* 253 characters + NUL, with room */
#define BIND_ATTEMPTS 32
#define LATE_MS_DEFAULT 1000      /* FIX_LATE */
#define HUGE_TXT_BYTES 65000      /* FIX_HUGE_TXT: uncompressed size aimed at */
#define MANY_MX 1000              /* FIX_MANY_MX */

struct conn {
	fixture_server_t *srv;
	int fd;
	struct event *rev, *wev, *idle;
	struct timeval idle_tv;
	uint8_t *out;
	size_t outlen, outoff, outcap;
	struct conn *prev, *next;
	size_t inlen;
	uint8_t in[2 + MSG_MAX];
};

struct pending {
	fixture_server_t *srv;
	struct event *timer;
	struct conn *conn;              /* NULL: a UDP reply to peer */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	uint8_t *msg;
	size_t len;
	struct pending *prev, *next;
};

struct logent {
	char *name;
	uint16_t type;
	size_t count;
};

struct modeent {
	char *name;
	fixture_mode_t mode;
};

struct fixture_server {
	struct event_base *base;
	const spf_zone_t *zone;
	int family;
	uint16_t port;
	int udp_fd, tcp_fd;
	struct event *udp_ev, *tcp_ev;
	struct conn *conns;
	size_t nconns;
	struct pending *pending;
	size_t npending, max_pending;
	unsigned latency_ms, idle_ms, late_ms;
	struct modeent *modes;
	size_t nmodes;
	struct logent *log;
	size_t nlog, logcap;
	size_t total;
	uint8_t udpbuf[MSG_MAX + 1];
};

/* The transport a query came over and where its reply goes. */
struct origin {
	struct conn *conn;              /* TCP, or NULL for UDP */
	const struct sockaddr_storage *peer;
	socklen_t peerlen;
};

/* ---- names ---- */

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* name in our text form, lower case, without a trailing dot; false if it
 * does not fit. */
static bool norm_name(const char *name, char *out, size_t outsize)
{
	size_t len = strlen(name);

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len >= outsize)
		return false;
	for (size_t i = 0; i < len; i++)
		out[i] = lower(name[i]);
	out[len] = '\0';
	return true;
}

/* A wire-format dname rdf as text; false for labels holding '.' or NUL. */
static bool dname_to_text(const ldns_rdf *rdf, char *out, size_t outsize)
{
	const uint8_t *p = ldns_rdf_data(rdf);
	size_t size = ldns_rdf_size(rdf), pos = 0, o = 0;

	if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME)
		return false;
	while (pos < size && p[pos] != 0) {
		size_t lablen = p[pos++];

		if (lablen > 63 || lablen > size - pos)
			return false;
		if (o > 0) {
			if (o + 1 >= outsize)
				return false;
			out[o++] = '.';
		}
		for (size_t i = 0; i < lablen; i++) {
			char c = (char)p[pos + i];

			if (c == '.' || c == '\0' || o + 1 >= outsize)
				return false;
			out[o++] = lower(c);
		}
		pos += lablen;
	}
	out[o] = '\0';
	return true;
}

/* A dname rdf from our text form ("" is the root); NULL if a label is
 * empty or too long, the name too long, or memory ran out. */
static ldns_rdf *text_to_dname(const char *name)
{
	uint8_t wire[255];
	size_t pos = 0;
	const char *p = name;

	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t lablen = dot != NULL ? (size_t)(dot - p) : strlen(p);

		if (lablen == 0 && dot != NULL && dot[1] == '\0')
			break;                  /* a trailing dot */
		if (lablen == 0 || lablen > 63 || pos + 1 + lablen + 1 > sizeof wire)
			return NULL;
		wire[pos++] = (uint8_t)lablen;
		memcpy(wire + pos, p, lablen);
		pos += lablen;
		p += lablen;
		if (*p == '.')
			p++;
	}
	wire[pos++] = 0;
	return ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, pos, wire);
}

/* ---- modes and the log ---- */

static fixture_mode_t mode_of(const fixture_server_t *srv, const char *name)
{
	for (size_t i = 0; i < srv->nmodes; i++)
		if (strcmp(srv->modes[i].name, name) == 0)
			return srv->modes[i].mode;
	return FIX_NORMAL;
}

static void log_query(fixture_server_t *srv, const char *name, uint16_t type)
{
	srv->total++;
	for (size_t i = 0; i < srv->nlog; i++) {
		if (srv->log[i].type == type && strcmp(srv->log[i].name, name) == 0) {
			srv->log[i].count++;
			return;
		}
	}
	if (srv->nlog == MAX_LOG_KEYS)
		return;
	if (srv->nlog == srv->logcap) {
		size_t ncap = srv->logcap ? srv->logcap * 2 : 64;
		struct logent *n = realloc(srv->log, ncap * sizeof *n);

		if (n == NULL)
			return;
		srv->log = n;
		srv->logcap = ncap;
	}
	srv->log[srv->nlog].name = strdup(name);
	if (srv->log[srv->nlog].name == NULL)
		return;
	srv->log[srv->nlog].type = type;
	srv->log[srv->nlog].count = 1;
	srv->nlog++;
}

/* ---- building replies ---- */

/* A reply skeleton for q: ID, opcode, RD and the question copied, QR set,
 * an OPT record if q had one. */
static ldns_pkt *reply_new(const ldns_pkt *q, ldns_pkt_rcode rcode, bool aa)
{
	ldns_pkt *r = ldns_pkt_new();
	ldns_rr_list *qs = ldns_pkt_question(q);

	if (r == NULL)
		return NULL;
	ldns_pkt_set_id(r, ldns_pkt_id(q));
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_opcode(r, ldns_pkt_get_opcode(q));
	ldns_pkt_set_rd(r, ldns_pkt_rd(q));
	ldns_pkt_set_aa(r, aa);
	ldns_pkt_set_rcode(r, (uint8_t)rcode);
	for (size_t i = 0; i < ldns_rr_list_rr_count(qs); i++) {
		ldns_rr *c = ldns_rr_clone(ldns_rr_list_rr(qs, i));

		if (c == NULL || !ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, c)) {
			ldns_rr_free(c);
			ldns_pkt_free(r);
			return NULL;
		}
	}
	if (ldns_pkt_edns(q))
		ldns_pkt_set_edns_udp_size(r, EDNS_REPLY_SIZE);
	return r;
}

static ldns_rr *rr_new(const ldns_rdf *owner, uint16_t type, uint32_t ttl)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rdf *o = ldns_rdf_clone(owner);

	if (rr == NULL || o == NULL) {
		ldns_rr_free(rr);
		ldns_rdf_deep_free(o);
		return NULL;
	}
	ldns_rr_set_owner(rr, o);
	ldns_rr_set_type(rr, (ldns_rr_type)type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	return rr;
}

/* Push rdf onto rr, taking it; false (rdf freed) on failure. */
static bool push_rdf(ldns_rr *rr, ldns_rdf *rdf)
{
	if (rdf == NULL)
		return false;
	if (!ldns_rr_push_rdf(rr, rdf)) {
		ldns_rdf_deep_free(rdf);
		return false;
	}
	return true;
}

static bool push_name(ldns_rr *rr, const char *name)
{
	return push_rdf(rr, text_to_dname(name != NULL ? name : ""));
}

/*
 * One zone record as an ldns RR owned by owner.  Returns NULL on ENOMEM,
 * and also (with *skip set) for a record that has no wire form here (an
 * unknown type, a name that is not a valid domain name).
 */
static ldns_rr *zone_rr(const ldns_rdf *owner, const spf_dns_rr_t *zr, bool *skip)
{
	ldns_rr *rr;
	bool ok = true;

	*skip = false;
	switch (zr->type) {
	case SPF_RR_A: case SPF_RR_AAAA: case SPF_RR_MX: case SPF_RR_PTR:
	case SPF_RR_CNAME: case SPF_RR_NS: case SPF_RR_TXT: case SPF_RR_SPF:
		break;
	default:
		*skip = true;
		return NULL;
	}
	rr = rr_new(owner, zr->type, zr->ttl);
	if (rr == NULL)
		return NULL;
	switch (zr->type) {
	case SPF_RR_A:
		ok = push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, zr->u.a));
		break;
	case SPF_RR_AAAA:
		ok = push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, 16, zr->u.aaaa));
		break;
	case SPF_RR_MX: {
		uint8_t pref[2] = { (uint8_t)(zr->u.mx.preference >> 8),
			(uint8_t)(zr->u.mx.preference & 0xff) };

		ok = push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16, 2, pref));
		if (ok && !push_name(rr, zr->u.mx.exchange))
			*skip = ok = false;
		break;
	}
	case SPF_RR_PTR: case SPF_RR_CNAME: case SPF_RR_NS:
		if (!push_name(rr, zr->u.name))
			*skip = ok = false;
		break;
	default: {  /* TXT, SPF: each character-string as it was */
		const uint8_t *d = zr->u.txt.data;
		size_t off = 0;

		for (size_t i = 0; ok && i < zr->u.txt.nstrings; i++) {
			uint8_t s[256];
			size_t l = zr->u.txt.lens[i];

			if (l > 255 || off + l > zr->u.txt.len) {
				*skip = ok = false;
				break;
			}
			s[0] = (uint8_t)l;
			if (l > 0)
				memcpy(s + 1, d + off, l);
			off += l;
			ok = push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, l + 1, s));
		}
		break;
	}
	}
	if (!ok) {
		ldns_rr_free(rr);
		return NULL;
	}
	return rr;
}

/*
 * The CNAME chain "a -> b -> c" of ans as CNAME records, the first owned
 * by qname (as asked), and the owner of the final records in *final
 * (qname when there is no chain or it cannot be read).  false on ENOMEM.
 */
static bool add_chain(ldns_pkt *r, const spf_dns_answer_t *ans,
	const ldns_rdf *qname, ldns_rdf **final)
{
	const char *chain = spf_dns_answer_cnames(ans);
	const char *sep = " -> ";
	uint32_t ttl = spf_dns_answer_ttl(ans);
	ldns_rdf *owner;
	const char *p;

	*final = ldns_rdf_clone(qname);
	if (*final == NULL)
		return false;
	if (chain == NULL || (p = strstr(chain, sep)) == NULL)
		return true;
	p += strlen(sep);
	owner = ldns_rdf_clone(qname);
	if (owner == NULL)
		return false;
	for (;;) {
		const char *end = strstr(p, sep);
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		char target[NAME_TEXT_MAX];
		ldns_rdf *t;
		ldns_rr *rr;

		if (len >= sizeof target)
			break;
		memcpy(target, p, len);
		target[len] = '\0';
		t = text_to_dname(target);
		if (t == NULL)
			break;          /* no wire form: the chain stops here */
		rr = rr_new(owner, SPF_RR_CNAME, ttl);
		if (rr == NULL) {
			ldns_rdf_deep_free(t);
			goto nomem;
		}
		if (!push_rdf(rr, t) || !ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr)) {
			ldns_rr_free(rr);
			goto nomem;
		}
		/* t now belongs to rr, which belongs to r */
		ldns_rdf_deep_free(owner);
		ldns_rdf_deep_free(*final);
		owner = ldns_rdf_clone(t);
		*final = ldns_rdf_clone(t);
		if (owner == NULL || *final == NULL)
			goto nomem;
		if (end == NULL)
			break;
		p = end + strlen(sep);
	}
	ldns_rdf_deep_free(owner);
	return true;
nomem:
	ldns_rdf_deep_free(owner);
	return false;
}

/* Fill r from a zone answer; false on ENOMEM. */
static bool add_answer(ldns_pkt *r, const spf_dns_answer_t *ans, const ldns_rdf *qname)
{
	ldns_rdf *owner = NULL;
	bool ok = add_chain(r, ans, qname, &owner);

	for (size_t i = 0; ok && i < spf_dns_answer_count(ans); i++) {
		bool skip;
		ldns_rr *rr = zone_rr(owner, spf_dns_answer_rr(ans, i), &skip);

		if (rr == NULL) {
			ok = skip;
			continue;
		}
		if (!ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr)) {
			ldns_rr_free(rr);
			ok = false;
		}
	}
	ldns_rdf_deep_free(owner);
	return ok;
}

/* ---- hostile replies (fixture.h: FIX_BAD_ID ... FIX_LATE) ---- */

/* A record of type at owner holding one character-string; NULL on ENOMEM. */
static ldns_rr *txt_rr(const ldns_rdf *owner, uint16_t type, const char *text)
{
	ldns_rr *rr = rr_new(owner, type, 60);
	uint8_t s[256];
	size_t l = strlen(text);

	if (rr == NULL)
		return NULL;
	if (l > 255)
		l = 255;
	s[0] = (uint8_t)l;
	memcpy(s + 1, text, l);
	if (!push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, l + 1, s))) {
		ldns_rr_free(rr);
		return NULL;
	}
	return rr;
}

/* Push rr (NULL: ENOMEM) to the answer section; false on failure. */
static bool push_answer(ldns_pkt *r, ldns_rr *rr)
{
	if (rr == NULL)
		return false;
	if (!ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr)) {
		ldns_rr_free(rr);
		return false;
	}
	return true;
}

/* FIX_WRONG_TYPE: a record of another type at qname. */
static bool add_wrong_type(ldns_pkt *r, const ldns_rdf *qname, uint16_t qtype)
{
	static const uint8_t addr[4] = { 192, 0, 2, 66 };
	ldns_rr *rr;

	if (qtype != SPF_RR_TXT)
		return push_answer(r, txt_rr(qname, SPF_RR_TXT, "v=spf1 +all"));
	rr = rr_new(qname, SPF_RR_A, 60);
	if (rr != NULL && !push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, addr))) {
		ldns_rr_free(rr);
		rr = NULL;
	}
	return push_answer(r, rr);
}

/* FIX_CNAME_LOOP: name -> loop.name -> name (or name -> name). */
static bool add_cname_loop(ldns_pkt *r, const ldns_rdf *qname, const char *name)
{
	char other[NAME_TEXT_MAX];
	ldns_rdf *o;
	ldns_rr *rr;
	bool ok;

	snprintf(other, sizeof other, "loop.%s", name);
	o = strlen(other) <= 253 ? text_to_dname(other) : NULL;
	if (o == NULL)
		o = ldns_rdf_clone(qname);
	if (o == NULL)
		return false;
	rr = rr_new(qname, SPF_RR_CNAME, 60);
	ok = rr != NULL && push_rdf(rr, ldns_rdf_clone(o));
	if (!ok)
		ldns_rr_free(rr);
	ok = ok && push_answer(r, rr);
	if (ok && ldns_dname_compare(o, qname) != 0) {
		rr = rr_new(o, SPF_RR_CNAME, 60);
		ok = rr != NULL && push_rdf(rr, ldns_rdf_clone(qname));
		if (!ok)
			ldns_rr_free(rr);
		ok = ok && push_answer(r, rr);
	}
	ldns_rdf_deep_free(o);
	return ok;
}

/* FIX_HUGE_TXT: junk TXT records after the zone's, to about 64 KB. */
static bool add_huge_txt(ldns_pkt *r, const ldns_rdf *qname)
{
	size_t per = ldns_rdf_size(qname) + 10 + 256;   /* uncompressed */
	size_t have = LDNS_HEADER_SIZE + 2 * (ldns_rdf_size(qname) + 4);
	char junk[256];

	for (size_t i = 0; i < ldns_pkt_ancount(r); i++)
		have += per;    /* a zone record: at most as big as one of ours */
	for (unsigned i = 0; have + per <= HUGE_TXT_BYTES; i++, have += per) {
		int n = snprintf(junk, sizeof junk, "junk %u ", i);

		memset(junk + n, 'x', 255 - (size_t)n);
		junk[255] = '\0';
		if (!push_answer(r, txt_rr(qname, SPF_RR_TXT, junk)))
			return false;
	}
	return true;
}

/* FIX_MANY_MX: MANY_MX MX records m<i>.<name> (m<i>.test if too long). */
static bool add_many_mx(ldns_pkt *r, const ldns_rdf *qname, const char *name)
{
	char host[NAME_TEXT_MAX];

	for (unsigned i = 0; i < MANY_MX; i++) {
		uint8_t pref[2] = { (uint8_t)(i >> 8), (uint8_t)(i & 0xff) };
		ldns_rr *rr = rr_new(qname, SPF_RR_MX, 60);

		if (snprintf(host, sizeof host, "m%u.%s", i, name) > 253)
			snprintf(host, sizeof host, "m%u.test", i);
		if (rr == NULL
		    || !push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16, 2, pref))
		    || !push_name(rr, host)) {
			ldns_rr_free(rr);
			return false;
		}
		if (!push_answer(r, rr))
			return false;
	}
	return true;
}

/* The offset just past the question of a reply built by reply_new()
 * (its name is never compressed), or 0 if it cannot be found. */
static size_t question_end(const uint8_t *w, size_t len)
{
	size_t pos = LDNS_HEADER_SIZE;

	if (len < LDNS_HEADER_SIZE || w[4] != 0 || w[5] != 1)
		return 0;
	while (pos < len && w[pos] != 0) {
		if (w[pos] > 63)
			return 0;
		pos += 1 + (size_t)w[pos];
	}
	pos += 1 + 4;
	return pos <= len ? pos : 0;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)(v & 0xff);
}

/*
 * The wire-level modes: spoil the finished reply w (malloc'ed, taken)
 * of *len bytes.  Returns the reply to send (maybe w) and sets *len, or
 * NULL to send nothing (ENOMEM).
 */
static uint8_t *spoil(fixture_mode_t mode, uint8_t *w, size_t *len, uint16_t qtype)
{
	size_t qend = question_end(w, *len), o;
	uint8_t *n;

	switch (mode) {
	case FIX_BAD_ID:
		w[1] ^= 0x5a;
		return w;
	case FIX_BAD_QUESTION:
		if (qend > LDNS_HEADER_SIZE + 5 && w[LDNS_HEADER_SIZE] > 0) {
			uint8_t *c = &w[LDNS_HEADER_SIZE + 1];

			*c = (*c == 'q' || *c == 'Q') ? 'x' : 'q';
		} else if (qend > 0) {
			w[qend - 3] ^= 1;    /* the low byte of the type */
		}
		return w;
	case FIX_SHORT:
		if (*len > 7)
			*len = 7;
		return w;
	case FIX_GARBLED:
	case FIX_PTR_LOOP:
	case FIX_BAD_RDATA:
		break;
	default:
		return w;
	}
	if (qend == 0)
		return w;
	n = malloc(qend + 32);
	if (n == NULL) {
		free(w);
		return NULL;
	}
	memcpy(n, w, qend);
	free(w);
	put16(n + 6, 1);            /* ANCOUNT */
	put16(n + 8, 0);
	put16(n + 10, 0);
	o = qend;
	if (mode == FIX_PTR_LOOP) {
		/* "a" then a pointer back to the "a": a.a.a.a... */
		n[o++] = 1;
		n[o++] = 'a';
		put16(n + o, 0xc000u | (unsigned)qend);
		o += 2;
	} else {
		put16(n + o, 0xc000u | LDNS_HEADER_SIZE);   /* the question's name */
		o += 2;
	}
	put16(n + o, qtype);
	o += 2;
	if (mode == FIX_GARBLED) {
		n[o++] = 0;             /* the first byte of the class: cut here */
		*len = o;
		return n;
	}
	put16(n + o, 1);            /* class IN */
	put16(n + o + 2, 0);        /* TTL 60 */
	put16(n + o + 4, 60);
	o += 6;
	put16(n + o, 3);            /* RDLENGTH 3 */
	o += 2;
	if (qtype == SPF_RR_TXT || qtype == SPF_RR_SPF) {
		n[o++] = 10;            /* a string of 10 bytes, 2 present */
		n[o++] = 'v';
		n[o++] = '=';
	} else {
		n[o++] = 0;             /* MX: preference 10, then a label of
		                         * 5 bytes that is not there; A, AAAA:
		                         * 3 bytes of an address */
		n[o++] = 10;
		n[o++] = 5;
	}
	*len = o;
	return n;
}

/*
 * The reply to one message, or NULL for no reply (junk, a dropped name,
 * a timeout, or no memory).  The reply is malloc'ed; *outlen its size.
 */
static uint8_t *answer_query(fixture_server_t *srv, const uint8_t *msg, size_t len,
	bool tcp, size_t *outlen, unsigned *delay_ms)
{
	ldns_pkt *q = NULL, *r = NULL;
	ldns_rr *question;
	uint8_t *wire = NULL;
	size_t wlen = 0, limit;
	char name[NAME_TEXT_MAX];
	uint16_t qtype;
	spf_dns_answer_t *ans = NULL;
	fixture_mode_t mode = FIX_NORMAL;
	bool named;

	*delay_ms = srv->latency_ms;
	if (len < LDNS_HEADER_SIZE || ldns_wire2pkt(&q, msg, len) != LDNS_STATUS_OK)
		goto done;
	if (ldns_pkt_qr(q) || ldns_rr_list_rr_count(ldns_pkt_question(q)) != 1)
		goto done;
	question = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	qtype = (uint16_t)ldns_rr_get_type(question);
	named = dname_to_text(ldns_rr_owner(question), name, sizeof name);
	if (!named)
		name[0] = '\0';     /* not representable: answered NXDOMAIN below */
	log_query(srv, name, qtype);

	if (ldns_pkt_get_opcode(q) != LDNS_PACKET_QUERY) {
		r = reply_new(q, LDNS_RCODE_NOTIMPL, false);
	} else if (ldns_rr_get_class(question) != LDNS_RR_CLASS_IN) {
		r = reply_new(q, LDNS_RCODE_REFUSED, false);
	} else if (!named) {
		r = reply_new(q, LDNS_RCODE_NXDOMAIN, true);
	} else if ((mode = mode_of(srv, name)) == FIX_DROP) {
		goto done;
	} else if (mode == FIX_SERVFAIL) {
		r = reply_new(q, LDNS_RCODE_SERVFAIL, false);
	} else if (mode == FIX_REFUSED) {
		r = reply_new(q, LDNS_RCODE_REFUSED, false);
	} else if ((mode == FIX_TRUNCATE && !tcp) || mode == FIX_TRUNCATE_ALWAYS) {
		r = reply_new(q, LDNS_RCODE_NOERROR, true);
		if (r != NULL)
			ldns_pkt_set_tc(r, true);
	} else if (mode == FIX_WRONG_TYPE || mode == FIX_CNAME_LOOP
		   || (mode == FIX_MANY_MX && qtype == SPF_RR_MX)) {
		bool ok;

		r = reply_new(q, LDNS_RCODE_NOERROR, true);
		if (r != NULL) {
			const ldns_rdf *qn = ldns_rr_owner(question);

			ok = mode == FIX_WRONG_TYPE ? add_wrong_type(r, qn, qtype)
				: mode == FIX_CNAME_LOOP ? add_cname_loop(r, qn, name)
				: add_many_mx(r, qn, name);
			if (!ok) {
				ldns_pkt_free(r);
				r = NULL;
			}
		}
	} else if (srv->zone == NULL ||
		   (ans = spf_zone_lookup(srv->zone, name, qtype)) == NULL) {
		r = reply_new(q, LDNS_RCODE_SERVFAIL, false);
	} else {
		const char *detail = spf_dns_answer_detail(ans);

		switch (spf_dns_answer_status(ans)) {
		case SPF_DNS_OK:
		case SPF_DNS_NODATA:
			r = reply_new(q, LDNS_RCODE_NOERROR, true);
			break;
		case SPF_DNS_NXDOMAIN:
			r = reply_new(q, LDNS_RCODE_NXDOMAIN, true);
			break;
		case SPF_DNS_TEMPFAIL:
			if (detail != NULL && strcmp(detail, "timeout") == 0)
				goto done;
			/* fall through */
		default:
			r = reply_new(q, LDNS_RCODE_SERVFAIL, false);
			spf_dns_answer_unref(ans);
			ans = NULL;
			break;
		}
		if (r != NULL && ans != NULL &&
		    !add_answer(r, ans, ldns_rr_owner(question))) {
			ldns_pkt_free(r);
			r = reply_new(q, LDNS_RCODE_SERVFAIL, false);
		}
		if (r != NULL && mode == FIX_HUGE_TXT && qtype == SPF_RR_TXT
		    && !add_huge_txt(r, ldns_rr_owner(question))) {
			ldns_pkt_free(r);
			r = NULL;
		}
	}
	if (r == NULL || ldns_pkt2wire(&wire, r, &wlen) != LDNS_STATUS_OK) {
		wire = NULL;
		goto done;
	}

	/* RFC 1035 §4.2.1, RFC 6891 §6.2.3-6.2.5: the UDP size limit */
	limit = MSG_MAX;
	if (!tcp) {
		limit = UDP_PLAIN_MAX;
		if (ldns_pkt_edns(q) && ldns_pkt_edns_udp_size(q) > limit)
			limit = ldns_pkt_edns_udp_size(q);
	}
	if (wlen > limit) {
		ldns_pkt_rcode rc = ldns_pkt_get_rcode(r);
		bool aa = ldns_pkt_aa(r);

		free(wire);
		wire = NULL;
		ldns_pkt_free(r);
		r = reply_new(q, rc, aa);
		if (r == NULL)
			goto done;
		ldns_pkt_set_tc(r, true);
		if (ldns_pkt2wire(&wire, r, &wlen) != LDNS_STATUS_OK || wlen > limit) {
			free(wire);
			wire = NULL;
		}
	}
	if (wire != NULL)
		wire = spoil(mode, wire, &wlen, qtype);
	if (mode == FIX_LATE)
		*delay_ms = srv->late_ms;
done:
	spf_dns_answer_unref(ans);
	ldns_pkt_free(r);
	ldns_pkt_free(q);
	*outlen = wire != NULL ? wlen : 0;
	return wire;
}

/* ---- TCP connections ---- */

static void pending_free(struct pending *p)
{
	fixture_server_t *srv = p->srv;

	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		srv->pending = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	srv->npending--;
	event_free(p->timer);
	free(p->msg);
	free(p);
}

static void conn_close(struct conn *c)
{
	fixture_server_t *srv = c->srv;
	struct pending *p = srv->pending;

	while (p != NULL) {
		struct pending *next = p->next;

		if (p->conn == c)
			pending_free(p);
		p = next;
	}
	event_free(c->rev);
	event_free(c->wev);
	event_free(c->idle);
	close(c->fd);
	free(c->out);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->nconns--;
	free(c);
}

/* Send what can be sent now; false if the connection is broken. */
static bool conn_flush(struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
			MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return event_add(c->wev, NULL) == 0;
			return false;
		}
		c->outoff += (size_t)n;
	}
	c->outoff = c->outlen = 0;
	event_del(c->wev);
	return true;
}

/* Queue one framed message; false if the connection must be closed. */
static bool conn_send(struct conn *c, const uint8_t *msg, size_t len)
{
	size_t need;

	if (len > MSG_MAX)
		return true;
	if (c->outoff > 0) {   /* compact */
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
	}
	need = c->outlen + 2 + len;
	if (need > TCP_OUT_MAX)
		return false;
	if (need > c->outcap) {
		size_t ncap = c->outcap ? c->outcap : 1024;
		uint8_t *n;

		while (ncap < need)
			ncap *= 2;
		n = realloc(c->out, ncap);
		if (n == NULL)
			return false;
		c->out = n;
		c->outcap = ncap;
	}
	c->out[c->outlen++] = (uint8_t)(len >> 8);
	c->out[c->outlen++] = (uint8_t)(len & 0xff);
	memcpy(c->out + c->outlen, msg, len);
	c->outlen += len;
	return conn_flush(c);
}

/* ---- delivery ---- */

static void send_udp(fixture_server_t *srv, const struct sockaddr_storage *peer,
	socklen_t peerlen, const uint8_t *msg, size_t len)
{
	/* UDP is lossy: a failed send is a lost reply */
	(void)sendto(srv->udp_fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL,
		(const struct sockaddr *)peer, peerlen);
}

static void on_pending(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;
	fixture_server_t *srv = p->srv;
	struct conn *c = p->conn;
	bool ok = true;

	(void)fd;
	(void)what;
	if (c != NULL)
		ok = conn_send(c, p->msg, p->len);
	else
		send_udp(srv, &p->peer, p->peerlen, p->msg, p->len);
	pending_free(p);
	if (!ok)
		conn_close(c);
}

/* Send or park msg (taken); false if the TCP connection must close. */
static bool deliver(fixture_server_t *srv, const struct origin *o, uint8_t *msg,
	size_t len, unsigned delay_ms)
{
	struct pending *p;
	struct timeval tv;
	bool ok = true;

	if (delay_ms == 0) {
		if (o->conn != NULL)
			ok = conn_send(o->conn, msg, len);
		else
			send_udp(srv, o->peer, o->peerlen, msg, len);
		free(msg);
		return ok;
	}
	if (srv->npending >= MAX_PENDING || (p = calloc(1, sizeof *p)) == NULL) {
		free(msg);
		return true;
	}
	p->srv = srv;
	p->conn = o->conn;
	if (o->conn == NULL) {
		memcpy(&p->peer, o->peer, o->peerlen);
		p->peerlen = o->peerlen;
	}
	p->msg = msg;
	p->len = len;
	p->timer = evtimer_new(srv->base, on_pending, p);
	tv.tv_sec = delay_ms / 1000;
	tv.tv_usec = (delay_ms % 1000) * 1000;
	if (p->timer == NULL || evtimer_add(p->timer, &tv) != 0) {
		if (p->timer != NULL)
			event_free(p->timer);
		free(msg);
		free(p);
		return true;
	}
	p->next = srv->pending;
	if (p->next != NULL)
		p->next->prev = p;
	srv->pending = p;
	srv->npending++;
	if (srv->npending > srv->max_pending)
		srv->max_pending = srv->npending;
	return true;
}

/* Answer one message; false if the TCP connection must close. */
static bool handle(fixture_server_t *srv, const uint8_t *msg, size_t len,
	const struct origin *o)
{
	size_t rlen;
	unsigned delay_ms;
	uint8_t *reply = answer_query(srv, msg, len, o->conn != NULL, &rlen, &delay_ms);

	if (reply == NULL)
		return true;
	return deliver(srv, o, reply, rlen, delay_ms);
}

/* ---- socket events ---- */

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
	fixture_server_t *srv = arg;

	(void)what;
	for (int i = 0; i < UDP_BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t peerlen = sizeof peer;
		struct origin o = { NULL, &peer, 0 };
		ssize_t n = recvfrom(fd, srv->udpbuf, sizeof srv->udpbuf, MSG_DONTWAIT,
			(struct sockaddr *)&peer, &peerlen);

		if (n < 0)
			break;
		if (peerlen > sizeof peer)
			continue;
		o.peerlen = peerlen;
		if ((size_t)n <= MSG_MAX)
			handle(srv, srv->udpbuf, (size_t)n, &o);
	}
}

static void on_conn_read(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct origin o = { c, NULL, 0 };
	size_t off = 0;
	bool ok = true;
	ssize_t n;

	(void)what;
	n = recv(fd, c->in + c->inlen, sizeof c->in - c->inlen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->inlen += (size_t)n;
	evtimer_add(c->idle, &c->idle_tv);
	while (ok && c->inlen - off >= 2) {
		size_t flen = ((size_t)c->in[off] << 8) | c->in[off + 1];

		if (c->inlen - off - 2 < flen)
			break;
		ok = handle(c->srv, c->in + off + 2, flen, &o);
		off += 2 + flen;
	}
	if (!ok) {
		conn_close(c);
		return;
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
}

static void on_conn_write(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (!conn_flush(c))
		conn_close(c);
}

static void on_conn_idle(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_close(arg);
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	fixture_server_t *srv = arg;

	(void)what;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;
		unsigned ms = srv->idle_ms;

		if (cfd < 0)
			break;
		if (srv->nconns >= MAX_TCP_CONNS || (c = calloc(1, sizeof *c)) == NULL) {
			close(cfd);
			continue;
		}
		c->srv = srv;
		c->fd = cfd;
		c->idle_tv.tv_sec = ms / 1000;
		c->idle_tv.tv_usec = (ms % 1000) * 1000;
		c->rev = event_new(srv->base, cfd, EV_READ | EV_PERSIST, on_conn_read, c);
		c->wev = event_new(srv->base, cfd, EV_WRITE | EV_PERSIST, on_conn_write, c);
		c->idle = evtimer_new(srv->base, on_conn_idle, c);
		if (c->rev == NULL || c->wev == NULL || c->idle == NULL ||
		    event_add(c->rev, NULL) != 0 || evtimer_add(c->idle, &c->idle_tv) != 0) {
			if (c->rev != NULL)
				event_free(c->rev);
			if (c->wev != NULL)
				event_free(c->wev);
			if (c->idle != NULL)
				event_free(c->idle);
			close(cfd);
			free(c);
			continue;
		}
		c->next = srv->conns;
		if (c->next != NULL)
			c->next->prev = c;
		srv->conns = c;
		srv->nconns++;
	}
}

/* ---- the server ---- */

static int open_socket(int family, int type, const struct sockaddr *sa,
	socklen_t salen)
{
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (type == SOCK_STREAM)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, sa, salen) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) != 0)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Bind UDP and TCP on one port (port 0: pick one free for both). */
static bool bind_both(fixture_server_t *srv, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t salen;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
			goto notloop;
		sin->sin_family = AF_INET;
		salen = sizeof *sin;
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			goto notloop;
		sin6->sin6_family = AF_INET6;
		salen = sizeof *sin6;
	} else {
		goto notloop;
	}
	srv->family = ss.ss_family;

	for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
		struct sockaddr_storage got;
		socklen_t gotlen = sizeof got;
		uint16_t p;

		if (srv->family == AF_INET)
			sin->sin_port = htons(port);
		else
			sin6->sin6_port = htons(port);
		srv->udp_fd = open_socket(srv->family, SOCK_DGRAM,
			(struct sockaddr *)&ss, salen);
		if (srv->udp_fd < 0) {
			fprintf(stderr, "fixture: UDP %s port %u: %s\n", addr, port,
				strerror(errno));
			return false;
		}
		memset(&got, 0, sizeof got);
		if (getsockname(srv->udp_fd, (struct sockaddr *)&got, &gotlen) != 0) {
			fprintf(stderr, "fixture: getsockname: %s\n", strerror(errno));
			return false;
		}
		p = srv->family == AF_INET ? ntohs(((struct sockaddr_in *)&got)->sin_port)
			: ntohs(((struct sockaddr_in6 *)&got)->sin6_port);
		if (srv->family == AF_INET)
			sin->sin_port = htons(p);
		else
			sin6->sin6_port = htons(p);
		srv->tcp_fd = open_socket(srv->family, SOCK_STREAM,
			(struct sockaddr *)&ss, salen);
		if (srv->tcp_fd >= 0) {
			srv->port = p;
			return true;
		}
		if (port != 0 || errno != EADDRINUSE) {
			fprintf(stderr, "fixture: TCP %s port %u: %s\n", addr, p,
				strerror(errno));
			return false;
		}
		close(srv->udp_fd);   /* the port is taken for TCP: try another */
		srv->udp_fd = -1;
	}
	fprintf(stderr, "fixture: no port free for both UDP and TCP on %s\n", addr);
	return false;
notloop:
	fprintf(stderr, "fixture: %s is not a loopback address\n", addr);
	return false;
}

fixture_server_t *fixture_start(struct event_base *base, const spf_zone_t *zone,
	const char *addr, uint16_t port)
{
	fixture_server_t *srv;

	if (base == NULL)
		return NULL;
	srv = calloc(1, sizeof *srv);
	if (srv == NULL)
		return NULL;
	srv->base = base;
	srv->zone = zone;
	srv->udp_fd = srv->tcp_fd = -1;
	srv->idle_ms = TCP_IDLE_MS_DEFAULT;
	srv->late_ms = LATE_MS_DEFAULT;
	if (!bind_both(srv, addr != NULL ? addr : "127.0.0.1", port))
		goto fail;
	srv->udp_ev = event_new(base, srv->udp_fd, EV_READ | EV_PERSIST, on_udp, srv);
	srv->tcp_ev = event_new(base, srv->tcp_fd, EV_READ | EV_PERSIST, on_accept, srv);
	if (srv->udp_ev == NULL || srv->tcp_ev == NULL ||
	    event_add(srv->udp_ev, NULL) != 0 || event_add(srv->tcp_ev, NULL) != 0) {
		fprintf(stderr, "fixture: cannot register events\n");
		goto fail;
	}
	return srv;
fail:
	fixture_stop(srv);
	return NULL;
}

uint16_t fixture_port(const fixture_server_t *srv)
{
	return srv != NULL ? srv->port : 0;
}

void fixture_set_zone(fixture_server_t *srv, const spf_zone_t *zone)
{
	if (srv != NULL)
		srv->zone = zone;
}

size_t fixture_max_pending(const fixture_server_t *srv)
{
	return srv->max_pending;
}

size_t fixture_pending(const fixture_server_t *srv)
{
	return srv->npending;
}

void fixture_stop(fixture_server_t *srv)
{
	if (srv == NULL)
		return;
	for (struct conn *c = srv->conns, *next; c != NULL; c = next) {
		next = c->next;
		conn_close(c);
	}
	for (struct pending *p = srv->pending, *next; p != NULL; p = next) {
		next = p->next;
		pending_free(p);
	}
	if (srv->udp_ev != NULL)
		event_free(srv->udp_ev);
	if (srv->tcp_ev != NULL)
		event_free(srv->tcp_ev);
	if (srv->udp_fd >= 0)
		close(srv->udp_fd);
	if (srv->tcp_fd >= 0)
		close(srv->tcp_fd);
	for (size_t i = 0; i < srv->nmodes; i++)
		free(srv->modes[i].name);
	free(srv->modes);
	fixture_clear_log(srv);
	free(srv->log);
	free(srv);
}

int fixture_set_mode(fixture_server_t *srv, const char *name, fixture_mode_t mode)
{
	char norm[NAME_TEXT_MAX];
	struct modeent *n;

	if (srv == NULL || name == NULL || !norm_name(name, norm, sizeof norm))
		return -1;
	for (size_t i = 0; i < srv->nmodes; i++) {
		if (strcmp(srv->modes[i].name, norm) != 0)
			continue;
		if (mode == FIX_NORMAL) {
			free(srv->modes[i].name);
			srv->modes[i] = srv->modes[--srv->nmodes];
		} else {
			srv->modes[i].mode = mode;
		}
		return 0;
	}
	if (mode == FIX_NORMAL)
		return 0;
	if (srv->nmodes == MAX_MODES)
		return -1;
	n = realloc(srv->modes, (srv->nmodes + 1) * sizeof *n);
	if (n == NULL)
		return -1;
	srv->modes = n;
	n[srv->nmodes].name = strdup(norm);
	if (n[srv->nmodes].name == NULL)
		return -1;
	n[srv->nmodes].mode = mode;
	srv->nmodes++;
	return 0;
}

void fixture_set_latency(fixture_server_t *srv, unsigned ms)
{
	if (srv != NULL)
		srv->latency_ms = ms;
}

void fixture_set_late(fixture_server_t *srv, unsigned ms)
{
	if (srv != NULL)
		srv->late_ms = ms != 0 ? ms : LATE_MS_DEFAULT;
}

int fixture_mode_parse(const char *word, fixture_mode_t *mode)
{
	static const struct {
		const char *word;
		fixture_mode_t mode;
	} words[] = {
		{ "normal", FIX_NORMAL }, { "drop", FIX_DROP },
		{ "servfail", FIX_SERVFAIL }, { "refused", FIX_REFUSED },
		{ "truncate", FIX_TRUNCATE }, { "bad-id", FIX_BAD_ID },
		{ "bad-question", FIX_BAD_QUESTION }, { "wrong-type", FIX_WRONG_TYPE },
		{ "bad-rdata", FIX_BAD_RDATA }, { "cname-loop", FIX_CNAME_LOOP },
		{ "huge-txt", FIX_HUGE_TXT }, { "many-mx", FIX_MANY_MX },
		{ "ptr-loop", FIX_PTR_LOOP }, { "garbled", FIX_GARBLED },
		{ "short", FIX_SHORT }, { "truncate-always", FIX_TRUNCATE_ALWAYS },
		{ "late", FIX_LATE },
	};

	for (size_t i = 0; word != NULL && i < sizeof words / sizeof words[0]; i++) {
		if (strcasecmp(word, words[i].word) == 0) {
			*mode = words[i].mode;
			return 0;
		}
	}
	return -1;
}

void fixture_set_tcp_idle(fixture_server_t *srv, unsigned ms)
{
	if (srv != NULL)
		srv->idle_ms = ms != 0 ? ms : TCP_IDLE_MS_DEFAULT;
}

size_t fixture_query_count(const fixture_server_t *srv)
{
	return srv != NULL ? srv->total : 0;
}

size_t fixture_count_for(const fixture_server_t *srv, const char *name,
	uint16_t type)
{
	char norm[NAME_TEXT_MAX];

	if (srv == NULL || name == NULL || !norm_name(name, norm, sizeof norm))
		return 0;
	for (size_t i = 0; i < srv->nlog; i++)
		if (srv->log[i].type == type && strcmp(srv->log[i].name, norm) == 0)
			return srv->log[i].count;
	return 0;
}

size_t fixture_count_under(const fixture_server_t *srv, const char *suffix)
{
	char norm[NAME_TEXT_MAX];
	size_t total = 0, ls;

	if (srv == NULL || suffix == NULL || !norm_name(suffix, norm, sizeof norm))
		return 0;
	ls = strlen(norm);
	for (size_t i = 0; i < srv->nlog; i++) {
		const char *n = srv->log[i].name;
		size_t ln = strlen(n);

		if (strcmp(n, norm) == 0 ||
		    (ln > ls && n[ln - ls - 1] == '.' && strcmp(n + ln - ls, norm) == 0))
			total += srv->log[i].count;
	}
	return total;
}

void fixture_clear_log(fixture_server_t *srv)
{
	if (srv == NULL)
		return;
	for (size_t i = 0; i < srv->nlog; i++)
		free(srv->log[i].name);
	srv->nlog = 0;
	srv->total = 0;
	srv->max_pending = srv->npending;
}
