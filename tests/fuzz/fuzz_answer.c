/*
 * fuzz_answer.c - DNS replies (raw bytes) through ldns into answers
 * (spf_dns_answer_from_wire), then through the cache.
 *
 * Input: one selector byte, then the reply.  The selector's low three
 * bits pick the question's type, the next three its name from a table;
 * with the top bit set the name is instead the bytes after the selector
 * up to the first NUL (at most 300; any bytes at all), and the reply
 * follows that NUL.  Every answer is walked and checked: records only in
 * an OK answer and all of the asked type, TXT data NUL-terminated with
 * string lengths that add up, names NUL-terminated.  Each answer is then
 * put in a small cache and read back, so the cache's size estimate sees
 * every shape of answer.
 */
#include <string.h>

#include "dns_internal.h"
#include "fuzz.h"

#define QNAME_MAX 300

static const uint16_t types[8] = { SPF_RR_A, SPF_RR_AAAA, SPF_RR_MX,
	SPF_RR_TXT, SPF_RR_CNAME, SPF_RR_PTR, SPF_RR_SPF, SPF_RR_NS };
static const char *const names[8] = { "example.com", "a.test",
	"www.example.org", "", "x", "_spf.example.com", "ExAmPlE.CoM.",
	"1.2.0.192.in-addr.arpa" };

static uint64_t fixed_clock(void *arg)
{
	(void)arg;
	return 1000;
}

static void check(const spf_dns_answer_t *ans, uint16_t qtype)
{
	volatile size_t sink = 0;
	size_t n = spf_dns_answer_count(ans);

	if (spf_dns_answer_status(ans) > SPF_DNS_BADREPLY)
		__builtin_trap();
	if (n > 0 && spf_dns_answer_status(ans) != SPF_DNS_OK)
		__builtin_trap();
	if (spf_dns_answer_type(ans) != qtype)
		__builtin_trap();
	sink += strlen(spf_dns_answer_name(ans));
	if (spf_dns_answer_detail(ans) != NULL)
		sink += strlen(spf_dns_answer_detail(ans));
	if (spf_dns_answer_cnames(ans) != NULL)
		sink += strlen(spf_dns_answer_cnames(ans));
	for (size_t i = 0; i < n; i++) {
		const spf_dns_rr_t *rr = spf_dns_answer_rr(ans, i);
		size_t total = 0;

		if (rr->type != qtype)
			__builtin_trap();
		switch (rr->type) {
		case SPF_RR_MX:
			sink += strlen(rr->u.mx.exchange);
			break;
		case SPF_RR_CNAME:
		case SPF_RR_PTR:
		case SPF_RR_NS:
			sink += strlen(rr->u.name);
			break;
		case SPF_RR_TXT:
		case SPF_RR_SPF:
			for (size_t j = 0; j < rr->u.txt.nstrings; j++)
				total += rr->u.txt.lens[j];
			if (total != rr->u.txt.len || rr->u.txt.data[rr->u.txt.len] != '\0')
				__builtin_trap();
			break;
		default:
			sink += rr->u.a[0];
			break;
		}
	}
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static spf_cache_t *cache;
	char qname[QNAME_MAX + 1];
	const char *name;
	uint16_t qtype;
	spf_dns_answer_t *ans, *back;

	if (size < 1)
		return 0;
	qtype = types[data[0] & 7];
	name = names[(data[0] >> 3) & 7];
	if (data[0] & 0x80) {
		const uint8_t *nul = memchr(data + 1, 0, size - 1);
		size_t len;

		if (nul == NULL || (len = (size_t)(nul - data - 1)) > QNAME_MAX)
			return 0;
		memcpy(qname, data + 1, len);
		qname[len] = '\0';
		name = qname;
		size -= len + 1;
		data += len + 1;
	}
	data++;
	size--;

	ans = spf_dns_answer_from_wire(data, size, name, qtype);
	if (ans == NULL)
		return 0;     /* out of memory only */
	check(ans, qtype);

	if (cache == NULL)
		cache = spf_cache_create(16, 256 * 1024, fixed_clock, NULL);
	if (cache != NULL && spf_cache_put(cache, ans)) {
		back = spf_cache_get(cache, name, qtype);
		if (back != ans)
			__builtin_trap();
		spf_dns_answer_unref(back);
		if (spf_cache_entries(cache) > 16 || spf_cache_bytes(cache) > 256 * 1024)
			__builtin_trap();
	}
	spf_dns_answer_unref(ans);
	return 0;
}
