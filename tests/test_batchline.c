/*
 * test_batchline.c - one line of `spfcheck batch` (cmd/batchline.c):
 * SENDER and HELO are read once, together, and what was read is what the
 * line's jobs evaluate (spf_request_t.identities); a line the reader
 * refuses names the field, as before the read was shared (issue 13).
 */
#include <string.h>
#include "check.h"
#include "cmd.h"
#include "env.h"

static bool parse(const char *line, struct cmd_batch_line *pl, char *text,
	size_t len, char *why, size_t whylen)
{
	snprintf(text, len, "%s", line);
	why[0] = '\0';
	return cmd_batch_parse_line(text, pl, why, whylen);
}

static void release(struct cmd_batch_line *pl)
{
	spf_free(pl->owned_sender);
	spf_free(pl->owned_helo);
	spf_free(pl->owned_from);
	spf_arena_destroy(pl->id_arena);
}

/* Both identities read at once: the checked fields are the read ones. */
static void test_read_once(void **state)
{
	struct cmd_batch_line pl;
	char text[256], why[256];

	(void)state;
	assert_true(parse("192.0.2.1 <Bob@B\xc3\xbc" "cher.example.> mx.example.net",
		&pl, text, sizeof(text), why, sizeof(why)));
	assert_non_null(pl.id_arena);
	assert_null(pl.owned_sender);
	assert_null(pl.owned_helo);
	assert_ptr_equal(pl.sender, pl.parts.sender);
	assert_ptr_equal(pl.helo, pl.parts.helo);
	assert_string_equal(pl.sender, "Bob@xn--bcher-kva.example.");
	assert_string_equal(pl.helo, "mx.example.net");
	release(&pl);

	/* no HELO field; HELO "-" before a FROM is no HELO either */
	assert_true(parse("192.0.2.1 a@example.com", &pl, text, sizeof(text),
		why, sizeof(why)));
	assert_null(pl.helo);
	assert_non_null(pl.id_arena);
	release(&pl);
	assert_true(parse("192.0.2.1 a@example.com - b@example.org", &pl, text,
		sizeof(text), why, sizeof(why)));
	assert_null(pl.helo);
	assert_string_equal(pl.from, "example.org");
	release(&pl);
}

/* A refused field is named by its own reading, and nothing is owned. */
static void test_refused(void **state)
{
	static char text[3 * SPF_IDENTITY_MAX], line[3 * SPF_IDENTITY_MAX];
	static char longname[SPF_IDENTITY_MAX + 8];
	struct cmd_batch_line pl;
	char why[512], why_alone[512];
	char *owned = NULL;

	(void)state;
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	/* the HELO is over the limit: its reason, as cmd_helo() words it */
	snprintf(line, sizeof(line), "192.0.2.1 a@example.com %s", longname);
	assert_false(parse(line, &pl, text, sizeof(text), why, sizeof(why)));
	assert_null(cmd_helo(longname, &owned, why_alone, sizeof(why_alone)));
	assert_string_equal(why, why_alone);
	assert_null(pl.id_arena);
	assert_null(pl.owned_sender);
	assert_null(pl.owned_helo);
	/* the sender is over the limit: the sender's reason, HELO good */
	snprintf(line, sizeof(line), "192.0.2.1 %s mx.example.net", longname);
	assert_false(parse(line, &pl, text, sizeof(text), why, sizeof(why)));
	assert_null(cmd_sender(longname, &owned, why_alone, sizeof(why_alone)));
	assert_string_equal(why, why_alone);
	assert_null(pl.id_arena);
	assert_null(pl.owned_sender);
}

/* The jobs evaluate what the line read: the same result and sender as
 * reading SENDER and HELO again in spf_check_start(). */
static void test_job_from_line(void **state)
{
	env_t *e = env_create();
	struct cmd_batch_line pl;
	char text[256], why[256];
	spf_request_t req = { 0 };
	spf_status_t st = SPF_OK;
	spf_job_t *a, *b;
	spf_identity_t ids[] = { SPF_IDENTITY_MFROM, SPF_IDENTITY_HELO };

	(void)state;
	assert_non_null(e);
	env_load(e, "xn--bcher-kva.example. TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n"
		"mx.example.net. TXT \"v=spf1 -all\"\n");
	assert_true(parse("192.0.2.1 bob@b\xc3\xbc" "cher.example mx.example.net", &pl,
		text, sizeof(text), why, sizeof(why)));
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		req.ip = pl.ip;
		req.identity = ids[i];
		req.sender = "bob@b\xc3\xbc" "cher.example";
		req.helo = "mx.example.net";
		req.identities = NULL;
		a = spf_check_sync(e->res, &req, &st);
		assert_non_null(a);
		req.sender = "ignored@example.org";
		req.helo = NULL;
		req.identities = &pl.parts;
		b = spf_check_sync(e->res, &req, &st);
		assert_non_null(b);
		assert_int_equal(spf_job_result(a), spf_job_result(b));
		assert_string_equal(spf_job_sender(a), spf_job_sender(b));
		assert_string_equal(spf_job_start_domain(a), spf_job_start_domain(b));
		assert_int_equal(spf_job_result(b), ids[i] == SPF_IDENTITY_MFROM ?
			SPF_RESULT_PASS : SPF_RESULT_FAIL);
		spf_job_destroy(a);
		spf_job_destroy(b);
	}
	release(&pl);
	env_destroy(e);
}

/* A slot's line buffer: grows only when a line does not fit, keeps its
 * allocation for a shorter line, and always holds the line just copied
 * (a longer line after a shorter one in the same slot included). */
static void test_copy_line(void **state)
{
	static const size_t lens[] = { 10, 127, 128, 4, 300, 299, 4096, 0, 1000 };
	char line[4097], *buf = NULL, *before;
	size_t cap = 0, cap_before;

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t n = lens[i];

		for (size_t j = 0; j < n; j++)
			line[j] = (char)('a' + (i + j) % 26);
		line[n] = '\0';
		before = buf;
		cap_before = cap;
		assert_true(cmd_batch_copy_line(&buf, &cap, line, n));
		assert_non_null(buf);
		assert_true(cap >= n + 1);
		assert_true(cap >= 128);
		assert_memory_equal(buf, line, n + 1);
		if (n + 1 <= cap_before) {   /* fits: no new allocation */
			assert_ptr_equal(buf, before);
			assert_int_equal(cap, cap_before);
		}
	}
	/* out of memory while growing: the buffer, its size and its line stay */
	spf_free(buf);
	buf = NULL;
	cap = 0;
	assert_true(cmd_batch_copy_line(&buf, &cap, "short", 5));
	before = buf;
	cap_before = cap;
	memset(line, 'x', 300);
	line[300] = '\0';
	spf_alloc_fail_at(1);
	assert_false(cmd_batch_copy_line(&buf, &cap, line, 300));
	spf_alloc_fail_at(0);
	assert_ptr_equal(buf, before);
	assert_int_equal(cap, cap_before);
	assert_string_equal(buf, "short");
	spf_free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_once),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_job_from_line),
		cmocka_unit_test(test_copy_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
