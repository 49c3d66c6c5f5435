/*
 * util.c - status texts, the allocation wrapper, arenas, bounded buffers.
 *
 * DESCRIPTION
 *	See util.h.  The allocation wrapper keeps a counter so that tests can
 *	fail the Nth allocation; the counter is process-global and not
 *	thread-safe (spfcheck runs one event loop on one thread).
 *
 * DIAGNOSTICS
 *	Functions return NULL or SPF_ENOMEM / SPF_ETOOBIG; nothing here aborts.
 */
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define SPF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPF_ASAN 1
#endif
#endif
#ifdef SPF_ASAN
#include <sanitizer/asan_interface.h>
#endif
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#define SPF_MEMCHECK 1
#include <valgrind/memcheck.h>
#endif
#endif

const char *spf_strerror(spf_status_t status)
{
	switch (status) {
	case SPF_OK: return "success";
	case SPF_ENOMEM: return "out of memory";
	case SPF_EINVAL: return "invalid argument";
	case SPF_ETOOBIG: return "size limit exceeded";
	case SPF_ESYNTAX: return "syntax error";
	case SPF_EIO: return "input/output error";
	case SPF_EDNS: return "DNS transport error";
	}
	return "unknown error";
}

static unsigned long alloc_count;
static unsigned long alloc_fail_at;

void spf_alloc_fail_at(unsigned long n)
{
	alloc_fail_at = n;
	alloc_count = 0;
}

unsigned long spf_alloc_count(void)
{
	return alloc_count;
}

static bool alloc_should_fail(void)
{
	alloc_count++;
	return alloc_fail_at != 0 && alloc_count == alloc_fail_at;
}

bool spf_alloc_reuse(void)
{
	return !alloc_should_fail();
}

void spf_mem_keep(void *p, size_t n)
{
#ifdef SPF_ASAN
	ASAN_POISON_MEMORY_REGION(p, n);
#endif
#ifdef SPF_MEMCHECK
	VALGRIND_MAKE_MEM_NOACCESS(p, n);
#endif
	(void)p;
	(void)n;
}

void spf_mem_show(void *p, size_t n)
{
#ifdef SPF_ASAN
	ASAN_UNPOISON_MEMORY_REGION(p, n);
#endif
#ifdef SPF_MEMCHECK
	/* as it was kept: what was written then is defined */
	VALGRIND_MAKE_MEM_DEFINED(p, n);
#endif
	(void)p;
	(void)n;
}

void *spf_malloc(size_t size)
{
	if (alloc_should_fail())
		return NULL;
	return malloc(size ? size : 1);
}

void *spf_calloc(size_t n, size_t size)
{
	if (alloc_should_fail())
		return NULL;
	return calloc(n ? n : 1, size ? size : 1);
}

void *spf_realloc(void *ptr, size_t size)
{
	if (alloc_should_fail())
		return NULL;
	return realloc(ptr, size ? size : 1);
}

void spf_free(void *ptr)
{
	free(ptr);
}

size_t spf_heap_bytes(size_t n)
{
	size_t c = (n + 8 + 15) & ~(size_t)15;

	return c < 32 ? 32 : c;
}

char *spf_strndup(const char *s, size_t len)
{
	char *p = spf_malloc(len + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *spf_strdup(const char *s)
{
	return spf_strndup(s, strlen(s));
}

/* ---- arena ---- */

#define ARENA_CHUNK 4096
#define ARENA_ALIGN 16
#define ARENA_SPARE 512         /* standard chunks kept for the next arena */

struct chunk {
	struct chunk *next;
	size_t size;
	size_t used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct spf_arena {
	struct chunk *head;
	size_t total;
};

/*
 * Standard-size chunks of destroyed arenas wait on a list for the next
 * arena: an evaluation creates and destroys one arena, and a 4 KiB
 * malloc/free pair (past the allocator's small-size caches) costs about
 * a tenth of a warm evaluation.  At most ARENA_SPARE chunks (2 MiB) wait:
 * a batch at its default concurrency keeps a few hundred arenas alive.
 * Taking a chunk counts as an allocation for spf_alloc_fail_at(), so the
 * failure points are the same with or without the list.  A waiting chunk
 * is poisoned for ASan and no-access for memcheck, so a use after its
 * arena's destruction is still reported.
 */
static struct chunk *spare;
static unsigned nspare;

static struct chunk *chunk_new(size_t csize)
{
	struct chunk *c;

	if (csize == ARENA_CHUNK && spare != NULL) {
		if (alloc_should_fail())
			return NULL;
		c = spare;
		spare = c->next;
		nspare--;
		spf_mem_show(c->data, c->size);
	} else {
		if (csize > SIZE_MAX - sizeof(struct chunk))
			return NULL;
		c = spf_malloc(sizeof(struct chunk) + csize);
		if (c == NULL)
			return NULL;
		c->size = csize;
	}
	c->used = 0;
	return c;
}

static void chunk_drop(struct chunk *c)
{
	if (c->size != ARENA_CHUNK || nspare >= ARENA_SPARE) {
		spf_free(c);
		return;
	}
	spf_mem_keep(c->data, c->size);
	c->next = spare;
	spare = c;
	nspare++;
}

/* The arena itself lives at the start of its first chunk. */
spf_arena_t *spf_arena_create(void)
{
	struct chunk *c = chunk_new(ARENA_CHUNK);
	spf_arena_t *arena;
	size_t self = (sizeof(*arena) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);

	if (c == NULL)
		return NULL;
	arena = (spf_arena_t *)(void *)c->data;
	c->used = self;
	c->next = NULL;
	arena->head = c;
	arena->total = 0;
	return arena;
}

void spf_arena_destroy(spf_arena_t *arena)
{
	struct chunk *c, *next;

	if (arena == NULL)
		return;
	/* the arena's own chunk is on the list: read nothing of it after */
	for (c = arena->head; c != NULL; c = next) {
		next = c->next;
		chunk_drop(c);
	}
}

/* size bytes of the arena, not cleared; NULL when out of memory */
static void *arena_take(spf_arena_t *arena, size_t size)
{
	struct chunk *c = arena->head;
	size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	void *p;

	if (need < size)
		return NULL;
	if (c->size - c->used < need) {
		c = chunk_new(need > ARENA_CHUNK ? need : ARENA_CHUNK);
		if (c == NULL)
			return NULL;
		/* A big allocation gets its own chunk behind the current one so
		 * that the remaining space of the current chunk is not lost. */
		if (need > ARENA_CHUNK) {
			c->next = arena->head->next;
			arena->head->next = c;
		} else {
			c->next = arena->head;
			arena->head = c;
		}
	}
	p = c->data + c->used;
	c->used += need;
	arena->total += need;
	return p;
}

void *spf_arena_alloc(spf_arena_t *arena, size_t size)
{
	void *p = arena_take(arena, size);

	if (p != NULL)
		memset(p, 0, size);
	return p;
}

char *spf_arena_strndup(spf_arena_t *arena, const char *s, size_t len)
{
	char *p;

	if (len == SIZE_MAX)
		return NULL;
	p = arena_take(arena, len + 1);   /* every byte is written */
	if (p == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *spf_arena_strdup(spf_arena_t *arena, const char *s)
{
	return spf_arena_strndup(arena, s, strlen(s));
}

char *spf_arena_printf(spf_arena_t *arena, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;
	struct chunk *c = arena->head;

	/* one pass, into the free end of the current chunk, when it fits */
	va_start(ap, fmt);
	if (c->used < c->size) {
		n = vsnprintf((char *)c->data + c->used, c->size - c->used, fmt, ap);
		va_end(ap);
		if (n < 0)
			return NULL;
		if ((size_t)n < c->size - c->used) {
			size_t need = ((size_t)n + 1 + ARENA_ALIGN - 1) &
				~(size_t)(ARENA_ALIGN - 1);

			if (need > c->size - c->used)
				need = c->size - c->used;
			p = (char *)c->data + c->used;
			c->used += need;
			arena->total += need;
			return p;
		}
	} else {
		n = vsnprintf(NULL, 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return NULL;
	}
	p = spf_arena_alloc(arena, (size_t)n + 1);
	if (p == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

size_t spf_arena_used(const spf_arena_t *arena)
{
	return arena ? arena->total : 0;
}

/* ---- bounded buffer ---- */

void spf_buf_init(spf_buf_t *buf, size_t max)
{
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
	buf->max = max;
	buf->err = SPF_OK;
}

void spf_buf_finish(spf_buf_t *buf)
{
	spf_free(buf->data);
	buf->data = NULL;
	buf->len = buf->cap = 0;
}

void spf_buf_reset(spf_buf_t *buf)
{
	buf->len = 0;
	buf->err = SPF_OK;
	if (buf->data != NULL)
		buf->data[0] = '\0';
}

static spf_status_t buf_reserve(spf_buf_t *buf, size_t add)
{
	size_t want, ncap;
	char *p;

	if (buf->err != SPF_OK)
		return buf->err;
	if (add > buf->max || buf->len > buf->max - add)
		return buf->err = SPF_ETOOBIG;
	want = buf->len + add + 1;
	if (want <= buf->cap)
		return SPF_OK;
	ncap = buf->cap ? buf->cap : 64;
	while (ncap < want)
		ncap *= 2;
	if (ncap > buf->max + 1)
		ncap = buf->max + 1;
	p = spf_realloc(buf->data, ncap);
	if (p == NULL)
		return buf->err = SPF_ENOMEM;
	buf->data = p;
	buf->cap = ncap;
	return SPF_OK;
}

spf_status_t spf_buf_append(spf_buf_t *buf, const void *data, size_t len)
{
	spf_status_t st;

	/* the common case: room for it (cap never exceeds max + 1) */
	if (buf->err == SPF_OK && buf->cap > 0 && len < buf->cap - buf->len) {
		memcpy(buf->data + buf->len, data, len);
		buf->len += len;
		buf->data[buf->len] = '\0';
		return SPF_OK;
	}
	st = buf_reserve(buf, len);

	if (st != SPF_OK)
		return st;
	if (len > 0)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
	return SPF_OK;
}

spf_status_t spf_buf_puts(spf_buf_t *buf, const char *s)
{
	return spf_buf_append(buf, s, strlen(s));
}

spf_status_t spf_buf_putc(spf_buf_t *buf, char c)
{
	return spf_buf_append(buf, &c, 1);
}

spf_status_t spf_buf_vprintf(spf_buf_t *buf, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	spf_status_t st;

	if (buf->err != SPF_OK)
		return buf->err;
	/* one pass when the text fits the space there is (a short line
	 * in a fresh buffer gets 64 bytes first); a second, exact one
	 * when it does not */
	if (buf->cap == 0 && buf_reserve(buf, 0) != SPF_OK)
		return buf->err;
	va_copy(ap2, ap);
	n = vsnprintf(buf->data + buf->len, buf->cap - buf->len, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		buf->data[buf->len] = '\0';
		return buf->err = SPF_EINVAL;
	}
	if ((size_t)n < buf->cap - buf->len) {   /* cap <= max + 1: within max */
		buf->len += (size_t)n;
		return SPF_OK;
	}
	buf->data[buf->len] = '\0';
	st = buf_reserve(buf, (size_t)n);
	if (st != SPF_OK)
		return st;
	vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
	buf->len += (size_t)n;
	return SPF_OK;
}

spf_status_t spf_buf_printf(spf_buf_t *buf, const char *fmt, ...)
{
	va_list ap;
	spf_status_t st;

	va_start(ap, fmt);
	st = spf_buf_vprintf(buf, fmt, ap);
	va_end(ap);
	return st;
}

const char *spf_buf_cstr(const spf_buf_t *buf)
{
	return buf->data != NULL ? buf->data : "";
}

void spf_escape_write(FILE *out, const void *s, size_t len, spf_escape_t how)
{
	const unsigned char *p = s;
	char one[5];

	for (size_t i = 0; i < len; i++) {
		spf_escape_byte(p[i], how, one);
		fputs(one, out);
	}
}

size_t spf_escape_byte(unsigned char c, spf_escape_t how, char out[5])
{
	bool plain = c >= 0x20 && c < 0x7f;

	switch (how) {
	case SPF_ESC_HEX:
	case SPF_ESC_FIELD:
	case SPF_ESC_CTL:
		if (how != SPF_ESC_CTL && c == '\\')
			plain = false;
		if (how != SPF_ESC_HEX && c >= 0x80)
			plain = true;
		if (plain)
			break;
		return (size_t)snprintf(out, 5, "\\x%02X", c);
	case SPF_ESC_ZONE:
		if (c == '"' || c == '\\') {
			out[0] = '\\', out[1] = (char)c, out[2] = '\0';
			return 2;
		}
		if (plain)
			break;
		return (size_t)snprintf(out, 5, "\\%03u", c);
	case SPF_ESC_QMARK:
		if (!plain)
			c = '?';
		break;
	}
	out[0] = (char)c, out[1] = '\0';
	return 1;
}

static bool url_plain(unsigned char c, const char *keep)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~' || (c != '\0' && keep != NULL && strchr(keep, c) != NULL);
}

spf_status_t spf_buf_percent_encode(spf_buf_t *buf, const void *s, size_t len,
	const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = s;
	size_t i = 0;

	while (i < len) {
		size_t run = 0;

		while (i + run < len && url_plain(p[i + run], keep))
			run++;
		if (run > 0) {
			spf_buf_append(buf, p + i, run);
			i += run;
		} else {
			char e[3] = { '%', hex[p[i] >> 4], hex[p[i] & 15] };

			spf_buf_append(buf, e, sizeof(e));
			i++;
		}
	}
	return buf->err;
}

spf_status_t spf_buf_escape(spf_buf_t *buf, const void *s, size_t len,
	spf_escape_t how, size_t max)
{
	const unsigned char *p = s;
	size_t start = buf->len;
	char one[5];

	for (size_t i = 0; i < len;) {
		size_t run = 0, room;

		if (max > 0 && buf->len - start >= max)
			return spf_buf_puts(buf, "...");
		/* a run of bytes that stand for themselves, copied at once */
		room = max > 0 ? max - (buf->len - start) : len - i;
		while (i + run < len && run < room &&
		    spf_escape_byte(p[i + run], how, one) == 1 && one[0] == (char)p[i + run])
			run++;
		if (run > 0) {
			if (spf_buf_append(buf, p + i, run) != SPF_OK)
				break;
			i += run;
			continue;
		}
		if (spf_buf_append(buf, one, spf_escape_byte(p[i], how, one)) != SPF_OK)
			break;
		i++;
	}
	return buf->err;
}

/* The characters that arrive in place of ASCII when a record is copied
 * from a word processor, a web page or a chat client. */
static const struct {
	uint32_t cp;
	const char *name;
	const char *ascii;
} typographic[] = {
	{ 0x00A0, "NO-BREAK SPACE", "type a space instead" },
	{ 0x00AD, "SOFT HYPHEN", "delete it" },
	{ 0x2010, "HYPHEN", "type '-' instead" },
	{ 0x2011, "NON-BREAKING HYPHEN", "type '-' instead" },
	{ 0x2012, "FIGURE DASH", "type '-' instead" },
	{ 0x2013, "EN DASH", "type '-' instead" },
	{ 0x2014, "EM DASH", "type '-' instead" },
	{ 0x2015, "HORIZONTAL BAR", "type '-' instead" },
	{ 0x2018, "LEFT SINGLE QUOTATION MARK", "type an apostrophe (') instead" },
	{ 0x2019, "RIGHT SINGLE QUOTATION MARK", "type an apostrophe (') instead" },
	{ 0x201C, "LEFT DOUBLE QUOTATION MARK", "type a straight quote (\") instead, or "
	    "nothing: quotes are not part of the record" },
	{ 0x201D, "RIGHT DOUBLE QUOTATION MARK", "type a straight quote (\") instead, or "
	    "nothing: quotes are not part of the record" },
	{ 0x2026, "HORIZONTAL ELLIPSIS", "type '...' instead" },
	{ 0x2002, "EN SPACE", "type a space instead" },
	{ 0x2003, "EM SPACE", "type a space instead" },
	{ 0x2009, "THIN SPACE", "type a space instead" },
	{ 0x200B, "ZERO WIDTH SPACE", "delete it" },
	{ 0x200C, "ZERO WIDTH NON-JOINER", "delete it" },
	{ 0x200D, "ZERO WIDTH JOINER", "delete it" },
	{ 0x2060, "WORD JOINER", "delete it" },
	{ 0x202F, "NARROW NO-BREAK SPACE", "type a space instead" },
	{ 0x2212, "MINUS SIGN", "type '-' instead" },
	{ 0x3000, "IDEOGRAPHIC SPACE", "type a space instead" },
	{ 0xFEFF, "ZERO WIDTH NO-BREAK SPACE (BYTE ORDER MARK)",
	    "delete it" },
	{ 0xFF0E, "FULLWIDTH FULL STOP", "type '.' instead" },
	{ 0xFF1A, "FULLWIDTH COLON", "type ':' instead" },
};

const char *spf_char_name(const void *s, size_t n, uint32_t *cp,
	size_t *seq, const char **ascii)
{
	const unsigned char *p = s;
	size_t len = p[0] >= 0xF0 && p[0] < 0xF5 ? 4 : p[0] >= 0xE0 ? 3 :
	    p[0] >= 0xC2 ? 2 : 0;
	uint32_t c = len == 4 ? p[0] & 0x07u : len == 3 ? p[0] & 0x0Fu :
	    p[0] & 0x1Fu;

	*cp = 0;
	*seq = 1;
	*ascii = NULL;
	if (len == 0 || p[0] >= 0xF5 || n < len)
		return NULL;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return NULL;
		c = c << 6 | (p[i] & 0x3Fu);
	}
	/* overlong forms and surrogates are not characters */
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return NULL;
	*cp = c;
	*seq = len;
	for (size_t i = 0; i < sizeof(typographic) / sizeof(typographic[0]); i++)
		if (typographic[i].cp == c) {
			*ascii = typographic[i].ascii;
			return typographic[i].name;
		}
	return NULL;
}

/* Bytes mostly match as they are: only two that differ are folded.
 * Two different bytes are equal but for ASCII case exactly when they
 * differ in the 0x20 bit alone and that bit set makes a letter. */
bool spf_strncaseeq(const char *a, const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x == y)
			continue;
		x |= 0x20;
		if (x != (y | 0x20) || x < 'a' || x > 'z')
			return false;
	}
	return true;
}

bool spf_streq_nocase(const char *a, const char *b)
{
	size_t la = strlen(a);

	return la == strlen(b) && spf_strncaseeq(a, b, la);
}
