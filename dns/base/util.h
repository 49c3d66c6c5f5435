/*
 * util.h - status codes, the allocation wrapper, arenas and bounded buffers.
 *
 * DESCRIPTION
 *	The lowest layer of spfcheck.  Every allocation in dns/ and evaluator/
 *	goes through spf_malloc() and friends so that tests can make the Nth
 *	allocation fail (spf_alloc_fail_at()).  An arena (spf_arena_t) holds
 *	everything one evaluation job allocates and is freed in one go.  A
 *	spf_buf_t is a growable byte buffer with a hard cap: appends past the
 *	cap fail with SPF_ETOOBIG instead of writing out of bounds.
 *
 *	This header is part of the public interface of dns/ (spf_dns.h
 *	includes it).
 */
#ifndef SPF_UTIL_H
#define SPF_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The status of an API call.  Never an SPF result, never a DNS status. */
typedef enum {
	SPF_OK = 0,
	SPF_ENOMEM,   /* an allocation failed */
	SPF_EINVAL,   /* an argument was not valid */
	SPF_ETOOBIG,  /* a bounded buffer or limit would be exceeded */
	SPF_ESYNTAX,  /* text did not parse */
	SPF_EIO,      /* a file could not be read */
	SPF_EDNS,     /* the DNS transport could not be set up */
} spf_status_t;

/* A static English text for a status; never NULL. */
const char *spf_strerror(spf_status_t status);

/*
 * Allocation wrapper.  Same contracts as the C library functions.
 * spf_free(NULL) is a no-op.
 */
void *spf_malloc(size_t size);
void *spf_calloc(size_t n, size_t size);
void *spf_realloc(void *ptr, size_t size);
void spf_free(void *ptr);
/*
 * What the C library's malloc() takes for a request of n bytes: a chunk
 * with an 8-byte header rounded up to 16 bytes, 32 at least (glibc on
 * 64-bit systems).  The memory estimates of answers, the cache and jobs
 * count allocations this way (bench/cache_rss.c checks them against RSS).
 */
size_t spf_heap_bytes(size_t n);
/* A NUL-terminated copy of the first len bytes of s, or NULL. */
char *spf_strndup(const char *s, size_t len);
char *spf_strdup(const char *s);

/*
 * Testing hook: make the n-th allocation counted from now fail (1 = the
 * very next one), and every allocation after it succeed again.  n = 0
 * turns failure injection off.  spf_alloc_count() returns how many
 * allocations were made since the last call of spf_alloc_fail_at().
 */
void spf_alloc_fail_at(unsigned long n);
unsigned long spf_alloc_count(void);

/*
 * Free lists: memory kept for reuse instead of freed.  spf_mem_keep()
 * makes n bytes at p no-access for ASan and memcheck (a use after the
 * release is still reported); spf_mem_show() makes them usable again,
 * holding what they held when kept.
 * spf_alloc_reuse() counts taking kept memory as an allocation for
 * spf_alloc_fail_at(): false when this one is to fail (then leave it
 * kept), so failure points are the same with or without the list.
 */
void spf_mem_keep(void *p, size_t n);
void spf_mem_show(void *p, size_t n);
bool spf_alloc_reuse(void);

/*
 * Arena: bump allocation in chunks, freed all at once.
 * spf_arena_destroy(NULL) is a no-op.  Allocation functions return NULL
 * when the underlying allocation fails.
 */
typedef struct spf_arena spf_arena_t;
spf_arena_t *spf_arena_create(void);
void spf_arena_destroy(spf_arena_t *arena);
void *spf_arena_alloc(spf_arena_t *arena, size_t size);  /* zeroed */
char *spf_arena_strndup(spf_arena_t *arena, const char *s, size_t len);
char *spf_arena_strdup(spf_arena_t *arena, const char *s);
char *spf_arena_printf(spf_arena_t *arena, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Bytes handed out so far (for memory-bound measurements). */
size_t spf_arena_used(const spf_arena_t *arena);

/*
 * Bounded buffer.  data is always NUL-terminated after a successful
 * append (the terminator is not counted in len).  Once an append fails,
 * the buffer stays failed (err != SPF_OK) and further appends are no-ops
 * returning that status, so a sequence of appends can be checked once.
 */
typedef struct {
	char *data;
	size_t len;
	size_t cap;
	size_t max;          /* hard cap on len */
	spf_status_t err;
} spf_buf_t;

void spf_buf_init(spf_buf_t *buf, size_t max);
void spf_buf_finish(spf_buf_t *buf);          /* frees data */
void spf_buf_reset(spf_buf_t *buf);           /* len = 0, err = SPF_OK */
spf_status_t spf_buf_append(spf_buf_t *buf, const void *data, size_t len);
spf_status_t spf_buf_puts(spf_buf_t *buf, const char *s);
spf_status_t spf_buf_putc(spf_buf_t *buf, char c);
spf_status_t spf_buf_printf(spf_buf_t *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
spf_status_t spf_buf_vprintf(spf_buf_t *buf, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* The contents as a C string ("" when empty); borrowed from buf. */
const char *spf_buf_cstr(const spf_buf_t *buf);

/*
 * Showing bytes that came from outside (DNS text, identities, requests,
 * files): each byte that cannot be shown as it is takes one of these
 * forms.  The one rule for every display of untrusted text.
 */
typedef enum {
	SPF_ESC_HEX,    /* \xHH for controls, DEL, non-ASCII and '\': one line
	                   of plain ASCII (messages, the one-line formats) */
	SPF_ESC_FIELD,  /* \xHH for controls, DEL and '\': one reversible
	                   field, UTF-8 kept (batch's TSV) */
	SPF_ESC_CTL,    /* \xHH for controls and DEL only: text already quoted
	                   as it should be stays readable, UTF-8 too, on a
	                   terminal (explain's tree) */
	SPF_ESC_ZONE,   /* \" and \\, \DDD for controls, DEL and non-ASCII: a
	                   zone file's character-string (RFC 1035 §5.1) */
	SPF_ESC_QMARK,  /* '?' for controls, DEL and non-ASCII: one byte stays
	                   one byte (byte positions, Postfix replies) */
} spf_escape_t;

/* The form of byte c under how, NUL-terminated in out; its length (1-4). */
size_t spf_escape_byte(unsigned char c, spf_escape_t how, char out[5]);
/*
 * A non-ASCII character in text that must be ASCII, for a message: s[0]
 * is a byte >= 0x80 and n the bytes available from s.  When s starts a
 * well-formed UTF-8 sequence, *cp is its code point and *seq its length
 * (2-4), else *cp = 0 and *seq = 1.  Returns the Unicode name of the
 * typographic characters word processors and web pages put in place of
 * ASCII ("EN DASH", "NO-BREAK SPACE", "ZERO WIDTH SPACE", ...), with in
 * *ascii what to do about it ("type '-' instead", "delete it"), or NULL
 * for any other character.  The strings are static.
 */
const char *spf_char_name(const void *s, size_t n, uint32_t *cp,
	size_t *seq, const char **ascii);
/*
 * Append the len bytes of s to buf, each in its form under how.  With
 * max > 0, once max bytes have been appended and bytes of s remain, "..."
 * is appended in their place.
 */
spf_status_t spf_buf_escape(spf_buf_t *buf, const void *s, size_t len,
	spf_escape_t how, size_t max);
/*
 * Append the len bytes of s to buf percent-encoded (RFC 3986 §2.1,
 * upper-case hex): the unreserved bytes (ALPHA / DIGIT / "-" / "." /
 * "_" / "~", §2.3) and those in keep (NULL: none) as they are, every
 * other byte as %HH.  Runs of plain bytes are appended at once.
 */
spf_status_t spf_buf_percent_encode(spf_buf_t *buf, const void *s, size_t len,
	const char *keep);
/* Write the len bytes of s to out, each in its form under how. */
void spf_escape_write(FILE *out, const void *s, size_t len, spf_escape_t how);

/* ASCII-only helpers (locale-independent). */
static inline char spf_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}
bool spf_strncaseeq(const char *a, const char *b, size_t len);
bool spf_streq_nocase(const char *a, const char *b);

#endif
