/*
 * signer_proto.c - the log signer's wire protocol (signer.h, byte layout in
 * docs/FORMATS.md "Log signer protocol"): every message is u32be length ‖
 * body, the body at most SIGNER_MSG_MAX bytes, and starts with "LSG1".
 *
 *   request  "LSG1" ‖ u8 type
 *            type 1 (sign): u8 origin length (1..255) ‖ origin ‖
 *                           u64 old size ‖ u64 size ‖ root[32] ‖
 *                           u8 n (<= 64) ‖ n × hash[32] (consistency proof)
 *            type 2 (key):  nothing more
 *   answer   "LSG1" ‖ u8 status
 *            status 0: u16 length ‖ text (the signed note, or the vkey)
 *            status 1: u8 reason ‖ u64 the signer's last signed size ‖
 *                      u16 length (<= 300) ‖ reason line
 *
 * The parsers read only through lacre_rbuf and fail on trailing bytes:
 * the signer's parser is a security boundary (fuzz/fuzz_signer.c).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/signer.h"

#define MAGIC_LEN 4

/* Encode a request body. */
int signer_request_encode(const struct signer_request *rq, struct lacre_dbuf *out)
{
	size_t olen, i;
	int rc;

	if ((rc = lacre_dbuf_add(out, SIGNER_MAGIC, MAGIC_LEN)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u8(out, rq->type)) != LACRE_OK)
		return rc;
	if (rq->type == SIGNER_REQ_KEY)
		return LACRE_OK;
	if (rq->type != SIGNER_REQ_SIGN)
		return LACRE_E_INVALID;
	olen = strlen(rq->origin);
	if (olen == 0 || olen > NOTE_NAME_MAX || rq->proof.n > MERKLE_PROOF_MAX)
		return LACRE_E_INVALID;
	if ((rc = lacre_dbuf_add_u8(out, (uint8_t)olen)) != LACRE_OK ||
	    (rc = lacre_dbuf_add(out, rq->origin, olen)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u64be(out, rq->old_size)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u64be(out, rq->size)) != LACRE_OK ||
	    (rc = lacre_dbuf_add(out, rq->root, MERKLE_HASH_LEN)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u8(out, (uint8_t)rq->proof.n)) != LACRE_OK)
		return rc;
	for (i = 0; i < rq->proof.n; i++)
		if ((rc = lacre_dbuf_add(out, rq->proof.h[i], MERKLE_HASH_LEN)) != LACRE_OK)
			return rc;
	return LACRE_OK;
}

/* Check the magic. */
static int take_magic(struct lacre_rbuf *b)
{
	const uint8_t *m;
	int rc;

	if ((rc = lacre_rbuf_take(b, MAGIC_LEN, &m)) != LACRE_OK)
		return rc;
	return memcmp(m, SIGNER_MAGIC, MAGIC_LEN) == 0 ? LACRE_OK : LACRE_E_MALFORMED;
}

/* Parse a request body (untrusted: from the receiver). */
int signer_request_parse(const void *p, size_t len, struct signer_request *out)
{
	struct signer_request rq;
	struct lacre_rbuf b;
	uint8_t olen, n;
	size_t i;
	int rc;

	if (len > SIGNER_MSG_MAX)
		return LACRE_E_TOO_LARGE;
	memset(&rq, 0, sizeof(rq));
	lacre_rbuf_init(&b, p, len);
	if ((rc = take_magic(&b)) != LACRE_OK || (rc = lacre_rbuf_u8(&b, &rq.type)) != LACRE_OK)
		return rc;
	if (rq.type == SIGNER_REQ_SIGN) {
		if ((rc = lacre_rbuf_u8(&b, &olen)) != LACRE_OK)
			return rc;
		if (olen == 0)
			return LACRE_E_MALFORMED;
		if ((rc = lacre_rbuf_copy(&b, rq.origin, olen)) != LACRE_OK)
			return rc;
		rq.origin[olen] = '\0';
		if (memchr(rq.origin, '\0', olen) != NULL || !note_name_valid(rq.origin))
			return LACRE_E_MALFORMED;
		if ((rc = lacre_rbuf_u64be(&b, &rq.old_size)) != LACRE_OK ||
		    (rc = lacre_rbuf_u64be(&b, &rq.size)) != LACRE_OK ||
		    (rc = lacre_rbuf_copy(&b, rq.root, MERKLE_HASH_LEN)) != LACRE_OK ||
		    (rc = lacre_rbuf_u8(&b, &n)) != LACRE_OK)
			return rc;
		if (n > MERKLE_PROOF_MAX || rq.size > MERKLE_MAX_SIZE || rq.old_size > MERKLE_MAX_SIZE)
			return LACRE_E_MALFORMED;
		for (i = 0; i < n; i++)
			if ((rc = lacre_rbuf_copy(&b, rq.proof.h[i], MERKLE_HASH_LEN)) != LACRE_OK)
				return rc;
		rq.proof.n = n;
	} else if (rq.type != SIGNER_REQ_KEY) {
		return LACRE_E_MALFORMED;
	}
	if ((rc = lacre_rbuf_expect_end(&b)) != LACRE_OK)
		return rc;
	*out = rq;
	return LACRE_OK;
}

/* An answer carrying a note or a vkey. */
int signer_answer_ok(const void *text, size_t len, struct lacre_dbuf *out)
{
	int rc;

	if (len > SIGNER_MSG_MAX - MAGIC_LEN - 3)
		return LACRE_E_TOO_LARGE;
	if ((rc = lacre_dbuf_add(out, SIGNER_MAGIC, MAGIC_LEN)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u8(out, 0)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u16be(out, (uint16_t)len)) != LACRE_OK)
		return rc;
	return lacre_dbuf_add(out, text, len);
}

/* A refusal with its reason line (cut at SIGNER_REASON_MAX bytes). */
int signer_answer_refuse(uint8_t reason, uint64_t signed_size, const char *line,
			 struct lacre_dbuf *out)
{
	size_t n = strlen(line);
	int rc;

	if (n > SIGNER_REASON_MAX)
		n = SIGNER_REASON_MAX;
	if ((rc = lacre_dbuf_add(out, SIGNER_MAGIC, MAGIC_LEN)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u8(out, 1)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u8(out, reason)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u64be(out, signed_size)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u16be(out, (uint16_t)n)) != LACRE_OK)
		return rc;
	return lacre_dbuf_add(out, line, n);
}

/* Parse an answer body (from the signer: checked all the same). */
int signer_answer_parse(const void *p, size_t len, struct signer_answer *out)
{
	struct signer_answer a;
	struct lacre_rbuf b;
	uint8_t status;
	uint16_t n;
	size_t i;
	int rc;

	if (len > SIGNER_MSG_MAX)
		return LACRE_E_TOO_LARGE;
	memset(&a, 0, sizeof(a));
	lacre_rbuf_init(&b, p, len);
	if ((rc = take_magic(&b)) != LACRE_OK || (rc = lacre_rbuf_u8(&b, &status)) != LACRE_OK)
		return rc;
	if (status == 1) {
		if ((rc = lacre_rbuf_u8(&b, &a.reason)) != LACRE_OK ||
		    (rc = lacre_rbuf_u64be(&b, &a.signed_size)) != LACRE_OK)
			return rc;
		if (a.reason == 0 || a.reason > SIGNER_R_MAX)
			return LACRE_E_MALFORMED;
	} else if (status == 0) {
		a.ok = 1;
	} else {
		return LACRE_E_MALFORMED;
	}
	if ((rc = lacre_rbuf_u16be(&b, &n)) != LACRE_OK)
		return rc;
	if (!a.ok && n > SIGNER_REASON_MAX)
		return LACRE_E_MALFORMED;
	if ((rc = lacre_rbuf_take(&b, n, &a.text)) != LACRE_OK)
		return rc;
	a.text_len = n;
	if (!a.ok)
		for (i = 0; i < n; i++)
			if (a.text[i] < 0x20 || a.text[i] == 0x7f)
				return LACRE_E_MALFORMED;
	if ((rc = lacre_rbuf_expect_end(&b)) != LACRE_OK)
		return rc;
	*out = a;
	return LACRE_OK;
}

/* Reason names, for logs and the refusal record. */
const char *signer_reason_name(unsigned reason)
{
	static const char *const names[] = {
		"unknown", "malformed", "origin", "rollback", "fork", "bad-proof", "stale", "internal"
	};
	return reason <= SIGNER_R_MAX ? names[reason] : names[0];
}

/* The error a refusal stands for. */
int signer_reason_err(unsigned reason)
{
	switch (reason) {
	case SIGNER_R_MALFORMED: return LACRE_E_MALFORMED;
	case SIGNER_R_ORIGIN: return LACRE_E_CONFIG;
	case SIGNER_R_ROLLBACK: return LACRE_E_ROLLBACK;
	case SIGNER_R_FORK: return LACRE_E_FORK;
	case SIGNER_R_PROOF: return LACRE_E_VERIFY;
	case SIGNER_R_STALE: return LACRE_E_STATE;
	default: return LACRE_E_UNAVAILABLE;
	}
}

/* Monotonic milliseconds. */
static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for events, at most until deadline (monotonic
 * ms): a whole frame gets SIGNER_TIMEOUT_MS, so a client that trickles
 * bytes cannot hold the one-at-a-time signer longer than that. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pf = { fd, events, 0 };
	int64_t left;
	int n;

	do {
		left = deadline - mono_ms();
		if (left <= 0)
			return LACRE_E_TIMEOUT;
		n = poll(&pf, 1, (int)left);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		return LACRE_E_TIMEOUT;
	return n < 0 ? LACRE_E_IO : LACRE_OK;
}

/* Read exactly n bytes into p. */
static int read_n(int fd, uint8_t *p, size_t n, int64_t deadline)
{
	ssize_t got;
	int rc;

	while (n > 0) {
		if ((rc = wait_fd(fd, POLLIN, deadline)) != LACRE_OK)
			return rc;
		got = read(fd, p, n);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got < 0)
			return LACRE_E_IO;
		if (got == 0)
			return LACRE_E_INCOMPLETE;
		p += got;
		n -= (size_t)got;
	}
	return LACRE_OK;
}

/* Read one framed message. */
int signer_frame_read(int fd, size_t max, struct lacre_dbuf *out)
{
	uint8_t hdr[4];
	struct lacre_rbuf b;
	int64_t deadline = mono_ms() + SIGNER_TIMEOUT_MS;
	uint32_t n;
	int rc;

	if ((rc = read_n(fd, hdr, 4, deadline)) != LACRE_OK)
		return rc;
	lacre_rbuf_init(&b, hdr, 4);
	lacre_rbuf_u32be(&b, &n);
	if (n > max)
		return LACRE_E_TOO_LARGE;
	if ((rc = lacre_dbuf_reserve(out, n)) != LACRE_OK ||
	    (rc = read_n(fd, out->p + out->len, n, deadline)) != LACRE_OK)
		return rc;
	out->len += n;
	return LACRE_OK;
}

/* Write one framed message. */
int signer_frame_write(int fd, const void *body, size_t len)
{
	uint8_t hdr[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			   (uint8_t)len };
	const uint8_t *parts[2] = { hdr, body };
	size_t lens[2] = { 4, len }, i;
	int64_t deadline = mono_ms() + SIGNER_TIMEOUT_MS;
	ssize_t n;
	int rc;

	if (len > SIGNER_MSG_MAX)
		return LACRE_E_TOO_LARGE;
	for (i = 0; i < 2; i++) {
		const uint8_t *p = parts[i];
		size_t left = lens[i];
		while (left > 0) {
			if ((rc = wait_fd(fd, POLLOUT, deadline)) != LACRE_OK)
				return rc;
			n = send(fd, p, left, MSG_NOSIGNAL);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0)
				return LACRE_E_IO;
			p += n;
			left -= (size_t)n;
		}
	}
	return LACRE_OK;
}
