/*
 * acct_batch.c - a worker's data PDUs accounted together: one accounting
 * lock per read from a connection instead of one per PDU (issue 15: with
 * two workers that per-PDU lock was most of the receiver's futex calls and
 * its CPU per MB rose by a third).
 *
 * A worker adds each plain IRI/CC data PDU it has sealed to its batch: the
 * PDU's bytes are copied into the batch (the framer's and the decoder's
 * buffers are reused before the batch is applied) with the few decoded
 * fields the accounting of a data PDU reads (LIID, CIN, number).  Applying
 * it hashes and, on the receiver's guess, copies for the hash checks with
 * no lock (ingest_acct_prepare), then takes the accounting lock once and
 * accounts every entry in arrival order (ingest_acct_pdu_prepared), then
 * frees what the accounting did not keep (ingest_acct_finish).  The
 * result is that of accounting each PDU at once, in the same order: the
 * batch is applied before anything else of this worker reads or changes
 * the accounting (srv_acct_lock applies it first), at the end of every
 * read, and before a PDU of another connection or another kind (integrity,
 * cINReset, decrypted) is accounted.  Accounting events of a batch go out
 * after the records of that read, not between them.
 */
#include <stdlib.h>
#include <string.h>

#include "lacre/err.h"
#include "lacre/etsi.h"
#include "ingest/ingest_int.h"

#define BATCH_BYTES_MAX ((size_t)256 << 10)   /* copied PDU bytes held, at most */
#define BATCH_N_MAX 1024                      /* entries held, at most */

/* An empty batch. */
void ingest_acct_batch_init(struct ingest_acct_batch *b)
{
	memset(b, 0, sizeof(*b));
	lacre_dbuf_init(&b->bytes, BATCH_BYTES_MAX + (64u << 10));
}

/* Free b (its entries are dropped: apply it first). */
void ingest_acct_batch_free(struct ingest_acct_batch *b)
{
	lacre_dbuf_free(&b->bytes);
	free(b->e);
	memset(b, 0, sizeof(*b));
}

/* Whether d's accounting may wait in a batch: plain IRI/CC data. */
int ingest_acct_batchable(const struct etsi_pdu *d)
{
	return (d->kind == ETSI_KIND_IRI || d->kind == ETSI_KIND_CC) && !d->encrypted;
}

/* Add a batchable PDU (ingest_acct_batchable); copy is the guess that it
 * will be retained (ingest_acct_prepare).  LACRE_E_TOO_LARGE when it does
 * not fit (apply the batch, then add again or account it at once),
 * LACRE_E_NOMEM when memory ran out (likewise). */
int ingest_acct_batch_add(struct ingest_acct_batch *b, const uint8_t *pdu, size_t len,
                          const struct etsi_pdu *d, int listener, uint64_t conn_id, int copy)
{
	struct acct_bent *e;
	size_t need = len + d->liid.len;

	if (b->n >= BATCH_N_MAX || need > BATCH_BYTES_MAX || b->bytes.len > BATCH_BYTES_MAX - need)
		return LACRE_E_TOO_LARGE;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;

		if (!(e = realloc(b->e, cap * sizeof(*e))))
			return LACRE_E_NOMEM;
		b->e = e;
		b->cap = cap;
	}
	e = &b->e[b->n];
	e->off = b->bytes.len;
	e->len = len;
	if (lacre_dbuf_add(&b->bytes, pdu, len) != LACRE_OK)
		return LACRE_E_NOMEM;
	e->liid_off = b->bytes.len;
	e->liid_len = d->liid.len;
	if (d->liid.len && lacre_dbuf_add(&b->bytes, d->liid.p, d->liid.len) != LACRE_OK) {
		b->bytes.len = e->off;
		return LACRE_E_NOMEM;
	}
	e->seq = d->seq;
	e->conn_id = conn_id;
	e->cin = d->cin;
	e->has_cin = d->has_cin ? 1 : 0;
	e->kind = (uint8_t)d->kind;
	e->listener = (uint8_t)listener;
	e->copy = copy ? 1 : 0;
	b->n++;
	return LACRE_OK;
}

/* The lock-free half of applying b: every entry's hash and guessed copy.
 * The bytes no longer move (nothing is added until the batch is reset). */
void ingest_acct_batch_prepare(struct ingest_acct_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		ingest_acct_prepare(&b->e[i].pre, b->bytes.p + b->e[i].off, b->e[i].len, b->e[i].copy);
}

/* Under the accounting lock: account every entry of b in order. */
void ingest_acct_batch_apply(struct ingest_acct *a, struct ingest_acct_batch *b)
{
	struct acct_bent *e;
	size_t i;

	/* the accounting of a data PDU reads no other decoded field */
	memset(&b->d, 0, sizeof(b->d));
	for (i = 0; i < b->n; i++) {
		e = &b->e[i];
		b->d.kind = (enum etsi_kind)e->kind;
		b->d.liid.p = b->bytes.p + e->liid_off;
		b->d.liid.len = e->liid_len;
		b->d.has_cin = e->has_cin;
		b->d.cin = e->cin;
		b->d.seq = e->seq;
		ingest_acct_pdu_prepared(a, b->bytes.p + e->off, e->len, &e->pre, &b->d, e->listener,
		                         e->conn_id);
	}
}

/* After the lock: free what the accounting did not keep and empty b.
 * Returns whether the last entry was retained (the next guess), -1 when
 * b was empty. */
int ingest_acct_batch_finish(struct ingest_acct_batch *b)
{
	int last = b->n ? b->e[b->n - 1].pre.retained : -1;
	size_t i;

	for (i = 0; i < b->n; i++)
		ingest_acct_finish(&b->e[i].pre);
	b->n = 0;
	lacre_dbuf_reset(&b->bytes);
	return last;
}
