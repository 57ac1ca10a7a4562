/*
 * buf.h - the checked buffers: the only way lacre touches untrusted bytes.
 *
 * struct lacre_rbuf is a read cursor over bytes someone else owns (a network
 * read, a file mapped from an untrusted backend).  Invariant: off <= len, and
 * every accessor checks the remaining length with overflow-safe arithmetic
 * (len - off < n) before it reads; on failure it returns LACRE_E_INCOMPLETE and
 * leaves the cursor where it was.  Nothing here allocates from a declared
 * length.
 *
 * struct lacre_dbuf is a growable output buffer with a size cap declared at
 * init (as curl's dynbuf): appending past the cap fails with
 * LACRE_E_TOO_LARGE, never grows without bound.  Invariant: len < alloc <=
 * max: one byte is always kept for the NUL of lacre_dbuf_cstr(), so a
 * buffer initialised with max holds at most max - 1 bytes (give n + 1 to
 * hold n).  lacre_dbuf_free() wipes the bytes before freeing when the buffer was
 * marked secret, so keys and plaintext do not linger on the heap.
 */
#ifndef LACRE_BUF_H
#define LACRE_BUF_H

#include <stddef.h>
#include <stdint.h>

struct lacre_rbuf {
	const uint8_t *p;
	size_t len;
	size_t off;
};

/* Initialise a read cursor over p[0..len). */
void lacre_rbuf_init(struct lacre_rbuf *b, const void *p, size_t len);
/* Bytes left to read. */
size_t lacre_rbuf_left(const struct lacre_rbuf *b);
/* Pointer to the next unread byte (valid only while left > 0 or for 0 bytes). */
const uint8_t *lacre_rbuf_ptr(const struct lacre_rbuf *b);
/* Read one byte / big-endian integers.  Fail with LACRE_E_INCOMPLETE. */
int lacre_rbuf_u8(struct lacre_rbuf *b, uint8_t *v);
int lacre_rbuf_u16be(struct lacre_rbuf *b, uint16_t *v);
int lacre_rbuf_u32be(struct lacre_rbuf *b, uint32_t *v);
int lacre_rbuf_u64be(struct lacre_rbuf *b, uint64_t *v);
/* Peek at one byte without consuming it. */
int lacre_rbuf_peek(const struct lacre_rbuf *b, uint8_t *v);
/* Point *p at the next n bytes and consume them (no copy). */
int lacre_rbuf_take(struct lacre_rbuf *b, size_t n, const uint8_t **p);
/* Copy the next n bytes into dst and consume them. */
int lacre_rbuf_copy(struct lacre_rbuf *b, void *dst, size_t n);
/* Skip n bytes. */
int lacre_rbuf_skip(struct lacre_rbuf *b, size_t n);
/* Split off the next n bytes as a sub-cursor and consume them from b. */
int lacre_rbuf_sub(struct lacre_rbuf *b, size_t n, struct lacre_rbuf *sub);
/* LACRE_OK when nothing is left, else LACRE_E_TRAILING. */
int lacre_rbuf_expect_end(const struct lacre_rbuf *b);

struct lacre_dbuf {
	uint8_t *p;
	size_t len;
	size_t alloc;
	size_t max;
	int secret;
};

/* Initialise an empty buffer that may grow up to max bytes. */
void lacre_dbuf_init(struct lacre_dbuf *b, size_t max);
/* Mark the buffer as holding secrets: wiped on growth, reset and free. */
void lacre_dbuf_set_secret(struct lacre_dbuf *b);
/* Make room for n more bytes without changing len. */
int lacre_dbuf_reserve(struct lacre_dbuf *b, size_t n);
int lacre_dbuf_add(struct lacre_dbuf *b, const void *p, size_t n);
/* Give memory back when the buffer holds less than half of what it has
 * allocated, keeping at least keep bytes: for buffers whose peak is rare
 * (a long-running process then stays at its steady size).  Contents are
 * unchanged; a secret buffer's old copy is wiped.  Never fails (a failed
 * realloc keeps the larger buffer). */
void lacre_dbuf_shrink(struct lacre_dbuf *b, size_t keep);
int lacre_dbuf_add_u8(struct lacre_dbuf *b, uint8_t v);
int lacre_dbuf_add_u16be(struct lacre_dbuf *b, uint16_t v);
int lacre_dbuf_add_u32be(struct lacre_dbuf *b, uint32_t v);
int lacre_dbuf_add_u64be(struct lacre_dbuf *b, uint64_t v);
/* Append a NUL-terminated string without its NUL. */
int lacre_dbuf_add_str(struct lacre_dbuf *b, const char *s);
/* Append printf-formatted text. */
int lacre_dbuf_printf(struct lacre_dbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Ensure p is NUL-terminated after len (the NUL is not counted in len). */
int lacre_dbuf_cstr(struct lacre_dbuf *b, const char **s);
/* Remove the first n bytes (n <= len). */
void lacre_dbuf_consume(struct lacre_dbuf *b, size_t n);
/* Set len to 0, keeping the allocation (wiped first if secret). */
void lacre_dbuf_reset(struct lacre_dbuf *b);
/* Free the storage (wiped first if secret) and reset to empty. */
void lacre_dbuf_free(struct lacre_dbuf *b);
/* Hand the bytes to the caller (who must free() them); b becomes empty. */
uint8_t *lacre_dbuf_steal(struct lacre_dbuf *b, size_t *len);

#endif
