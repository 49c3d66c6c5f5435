/*
 * mkseeds_answer.c - write the seed corpus of fuzz_answer.c: real
 * replies built with ldns (which compresses names), each prefixed with
 * the selector byte that asks fuzz_answer the matching question, plus a
 * few hand-made hostile ones (the wire forms of the fixture's hostile
 * modes).  Not a test: run it by hand when the seeds should change.
 *
 * usage: mkseeds-answer DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

/* fuzz_answer.c's tables, by index */
enum { T_A, T_AAAA, T_MX, T_TXT, T_CNAME, T_PTR, T_SPF, T_NS };
enum { N_EXAMPLE, N_ATEST, N_WWW, N_ROOT, N_X, N_SPF, N_MIXED, N_ARPA };
static const ldns_rr_type type_of[8] = { LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA,
	LDNS_RR_TYPE_MX, LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_CNAME, LDNS_RR_TYPE_PTR,
	LDNS_RR_TYPE_SPF, LDNS_RR_TYPE_NS };
static const char *const name_of[8] = { "example.com.", "a.test.",
	"www.example.org.", ".", "x.", "_spf.example.com.", "ExAmPlE.CoM.",
	"1.2.0.192.in-addr.arpa." };

static const char *dir;
static int written;

static void save(const char *file, const uint8_t *buf, size_t len)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	fp = fopen(path, "wb");
	if (fp == NULL || fwrite(buf, 1, len, fp) != len || fclose(fp) != 0) {
		perror(path);
		exit(1);
	}
	written++;
}

static void add(ldns_pkt *p, ldns_pkt_section sec, const char *text)
{
	ldns_rr *rr = NULL;

	if (ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK) {
		fprintf(stderr, "bad record: %s\n", text);
		exit(1);
	}
	ldns_pkt_push_rr(p, sec, rr);
}

/*
 * One seed: the reply to (name index, type index) with rcode, answer
 * and authority records in presentation form (NULL-terminated lists),
 * EDNS0 if edns.
 */
static void seed(const char *file, int n, int t, ldns_pkt_rcode rcode,
	const char *const *answers, const char *const *authority, bool edns)
{
	ldns_pkt *p = ldns_pkt_new();
	ldns_rdf *owner = NULL;
	ldns_rr *q = ldns_rr_new();
	uint8_t *wire = NULL, *out;
	size_t len;

	ldns_pkt_set_id(p, 0x1234);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_rd(p, true);
	ldns_pkt_set_ra(p, true);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	ldns_str2rdf_dname(&owner, name_of[n]);
	ldns_rr_set_owner(q, owner);
	ldns_rr_set_type(q, type_of[t]);
	ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
	ldns_rr_set_question(q, true);
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, q);
	for (size_t i = 0; answers != NULL && answers[i] != NULL; i++)
		add(p, LDNS_SECTION_ANSWER, answers[i]);
	for (size_t i = 0; authority != NULL && authority[i] != NULL; i++)
		add(p, LDNS_SECTION_AUTHORITY, authority[i]);
	if (edns)
		ldns_pkt_set_edns_udp_size(p, 1232);
	if (ldns_pkt2wire(&wire, p, &len) != LDNS_STATUS_OK) {
		fprintf(stderr, "%s: cannot encode\n", file);
		exit(1);
	}
	out = malloc(len + 1);
	out[0] = (uint8_t)(n << 3 | t);
	memcpy(out + 1, wire, len);
	save(file, out, len + 1);
	free(out);
	free(wire);
	ldns_pkt_free(p);
}

/* A hand-made reply to example.com TXT: header, question, then tail. */
static void raw(const char *file, uint16_t ancount, const uint8_t *tail, size_t tlen)
{
	static const uint8_t head[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0,
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 16, 0, 1 };
	uint8_t buf[1 + sizeof head + 256];

	buf[0] = (uint8_t)(N_EXAMPLE << 3 | T_TXT);
	memcpy(buf + 1, head, sizeof head);
	buf[1 + 6] = (uint8_t)(ancount >> 8);
	buf[1 + 7] = (uint8_t)ancount;
	memcpy(buf + 1 + sizeof head, tail, tlen);
	save(file, buf, 1 + sizeof head + tlen);
}

int main(int argc, char **argv)
{
	static const char *const soa[] = {
		"example.com. 3600 IN SOA ns.example.com. h.example.com. 1 7200 900 1209600 300",
		NULL };
	char big[12][300];
	const char *bigs[13];

	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds-answer DIR\n");
		return 2;
	}
	dir = argv[1];

	seed("a", N_EXAMPLE, T_A, LDNS_RCODE_NOERROR, (const char *const[]){
		"example.com. 300 IN A 192.0.2.1", "example.com. 200 IN A 192.0.2.2",
		NULL }, NULL, false);
	seed("aaaa", N_EXAMPLE, T_AAAA, LDNS_RCODE_NOERROR, (const char *const[]){
		"example.com. 300 IN AAAA 2001:db8::1", NULL }, NULL, true);
	seed("mx", N_EXAMPLE, T_MX, LDNS_RCODE_NOERROR, (const char *const[]){
		"example.com. 300 IN MX 10 mx1.example.com.",
		"example.com. 300 IN MX 20 mx2.example.com.",
		"example.com. 300 IN MX 30 mail.other.example.", NULL }, NULL, false);
	seed("mx-null", N_ATEST, T_MX, LDNS_RCODE_NOERROR, (const char *const[]){
		"a.test. 300 IN MX 0 .", NULL }, NULL, false);
	seed("txt-multi", N_EXAMPLE, T_TXT, LDNS_RCODE_NOERROR, (const char *const[]){
		"example.com. 300 IN TXT \"v=spf1 \" \"ip4:192.0.2.0/24\" \" -all\"",
		"example.com. 300 IN TXT \"google-site-verification=abc\"",
		"example.com. 300 IN TXT \"\"", NULL }, NULL, true);
	seed("txt-spf-name", N_SPF, T_TXT, LDNS_RCODE_NOERROR, (const char *const[]){
		"_spf.example.com. 60 IN TXT \"v=spf1 include:_spf.example.com "
		"exists:%{i}.%{l}._spf.%{d} -all\"", NULL }, NULL, false);
	seed("spf99", N_EXAMPLE, T_SPF, LDNS_RCODE_NOERROR, (const char *const[]){
		"example.com. 300 IN SPF \"spf2.0/pra \" \"-all\"", NULL }, NULL, false);
	seed("cname-chain", N_WWW, T_TXT, LDNS_RCODE_NOERROR, (const char *const[]){
		"www.example.org. 600 IN CNAME b.example.org.",
		"b.example.org. 100 IN CNAME C.example.org.",
		"c.example.org. 300 IN TXT \"v=spf1 a mx -all\"", NULL }, NULL, false);
	seed("cname-nxdomain", N_WWW, T_A, LDNS_RCODE_NXDOMAIN, (const char *const[]){
		"www.example.org. 40 IN CNAME gone.example.org.", NULL }, soa, false);
	seed("cname-loop", N_WWW, T_A, LDNS_RCODE_NOERROR, (const char *const[]){
		"www.example.org. 60 IN CNAME b.example.org.",
		"b.example.org. 60 IN CNAME www.example.org.", NULL }, NULL, false);
	seed("cname-asked", N_WWW, T_CNAME, LDNS_RCODE_NOERROR, (const char *const[]){
		"www.example.org. 60 IN CNAME b.example.org.", NULL }, NULL, false);
	seed("nxdomain-soa", N_EXAMPLE, T_TXT, LDNS_RCODE_NXDOMAIN, NULL, soa, false);
	seed("nodata-soa", N_EXAMPLE, T_MX, LDNS_RCODE_NOERROR, NULL, soa, true);
	seed("servfail", N_X, T_A, LDNS_RCODE_SERVFAIL, NULL, NULL, false);
	seed("refused", N_X, T_TXT, LDNS_RCODE_REFUSED, NULL, NULL, false);
	seed("ptr", N_ARPA, T_PTR, LDNS_RCODE_NOERROR, (const char *const[]){
		"1.2.0.192.in-addr.arpa. 300 IN PTR host.example.com.",
		"1.2.0.192.in-addr.arpa. 300 IN PTR Other.Example.NET.", NULL },
		NULL, false);
	seed("ns", N_ROOT, T_NS, LDNS_RCODE_NOERROR, (const char *const[]){
		". 300 IN NS a.root-servers.net.", NULL }, NULL, false);
	seed("mixed-case", N_MIXED, T_A, LDNS_RCODE_NOERROR, (const char *const[]){
		"example.com. 300 IN A 192.0.2.9", "EXAMPLE.com. 300 IN A 192.0.2.10",
		"other.com. 300 IN A 192.0.2.11", NULL }, NULL, false);
	seed("other-types", N_EXAMPLE, T_TXT, LDNS_RCODE_NOERROR, (const char *const[]){
		"example.com. 300 IN A 192.0.2.1", "example.com. 300 IN TXT \"v=spf1 -all\"",
		"example.com. 300 IN MX 10 example.com.", NULL }, soa, false);
	for (int i = 0; i < 12; i++) {
		int n = snprintf(big[i], sizeof big[i], "example.com. 300 IN TXT \"%d", i);

		memset(big[i] + n, 'a' + i, 250);
		strcpy(big[i] + n + 250, "\"");
		bigs[i] = big[i];
	}
	bigs[12] = NULL;
	seed("txt-big", N_EXAMPLE, T_TXT, LDNS_RCODE_NOERROR, bigs, NULL, true);

	/* hand-made: the fixture's hostile wire forms */
	raw("ptr-loop", 1, (const uint8_t[]){ 1, 'a', 0xc0, 29, 0, 16, 0, 1, 0, 0,
		0, 60, 0, 3, 2, 'v', '=' }, 17);
	raw("bad-rdata", 1, (const uint8_t[]){ 0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60,
		0, 3, 10, 'v', '=' }, 15);
	raw("garbled", 1, (const uint8_t[]){ 0xc0, 12, 0, 16, 0 }, 5);
	raw("txt-ok-raw", 1, (const uint8_t[]){ 0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60,
		0, 11, 10, 'v', '=', 's', 'p', 'f', '1', ' ', '-', 'a', 'l' }, 23);
	raw("pointer-forward", 1, (const uint8_t[]){ 0xc0, 60, 0, 16, 0, 1, 0, 0, 0,
		60, 0, 1, 0 }, 13);
	printf("%d seeds in %s\n", written, dir);
	return 0;
}
