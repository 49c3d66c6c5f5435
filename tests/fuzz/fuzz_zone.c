/*
 * fuzz_zone.c - zone text (what --zone reads) through ldns into a zone,
 * then a few lookups on whatever loaded.
 */
#include "fuzz.h"
#include "spf_dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t types[] = { SPF_RR_A, SPF_RR_AAAA, SPF_RR_MX,
		SPF_RR_TXT, SPF_RR_PTR, SPF_RR_SPF };
	spf_zone_t *zone = spf_zone_create();
	char *msg = NULL;

	if (zone == NULL)
		return 0;
	if (spf_zone_load_mem(zone, (const char *)data, size, "fuzz", "example.com",
	    &msg) == SPF_OK) {
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
			spf_dns_answer_unref(spf_zone_lookup(zone, "example.com", types[i]));
			spf_dns_answer_unref(spf_zone_lookup(zone, "a.example.com", types[i]));
		}
	}
	spf_free(msg);
	spf_zone_destroy(zone);
	return 0;
}
