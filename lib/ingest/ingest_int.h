/*
 * ingest_int.h - functions shared between the files of lib/ingest/ and not
 * part of the public API (include/lacre/ingest.h).
 */
#ifndef LACRE_INGEST_INT_H
#define LACRE_INGEST_INT_H

#include <openssl/ssl.h>

#include "lacre/buf.h"
#include "lacre/etsi.h"
#include "lacre/ingest.h"

/* Build the server-side TLS context of cfg (tls.c): TLS 1.2 minimum,
 * certificate and key loaded (key bytes wiped once OpenSSL holds the key),
 * client certificates requested per cfg.  Returns LACRE_E_CONFIG with a
 * one-line reason in why[0..why_len) on a bad file or setting. */
int ingest_tls_ctx_new(const struct ingest_config *cfg, SSL_CTX **out,
                       char *why, size_t why_len);

/* After a handshake: check the client certificate against cfg's policy
 * (present when required; SHA-256 fingerprint in the allow-list when one is
 * set).  Writes the fingerprint in hex (65 bytes) to fp_hex, "" when the
 * peer sent none.  LACRE_E_AUTH when refused. */
int ingest_tls_check_peer(SSL *ssl, const struct ingest_config *cfg, char fp_hex[65]);

/* The most bytes f's pending buffer may have allocated at any moment while
 * n more bytes are fed (framer.c): what the memory budget must grant
 * before a read reaches the framer.  Depends only on what is held and on
 * n, never on a declared length beyond the bytes that arrive. */
size_t ingest_framer_grow_bound(const struct ingest_framer *f, size_t n);
/* Bytes f's pending buffer has allocated now (what the budget counts). */
size_t ingest_framer_allocated(const struct ingest_framer *f);

/* Operator authentication (op_auth.c): the per-operator CA stores, loaded
 * once from cfg->operators (LACRE_E_CONFIG with why naming the key when a
 * CA file does not load). */
struct ingest_op_auth;
int ingest_op_auth_new(const struct ingest_config *cfg, struct ingest_op_auth **out, char *why,
		       size_t why_len);
void ingest_op_auth_free(struct ingest_op_auth *a);

/* Which operator a connection belongs to: ssl after its handshake (NULL on
 * plain TCP), the peer address (fam 4 or 6, 4 or 16 bytes).  On LACRE_OK
 * *idx is the index in cfg->operators.  LACRE_E_AUTH when none (or more
 * than one, equally) matches, with a one-line reason in why.  Either way
 * fp_hex receives the client certificate's SHA-256 in hex ("" if none)
 * and subject its RFC 2253 subject ("" if none). */
int ingest_op_auth_conn(const struct ingest_op_auth *a, const struct ingest_config *cfg, SSL *ssl,
			int fam, const uint8_t *addr, size_t *idx, char fp_hex[65], char *subject,
			size_t subject_len, char *why, size_t why_len);

/* Stream accounting with its per-byte work outside the accounting lock
 * (accounting.c; issue 15: every worker takes that lock for every PDU, so
 * what runs under it is what does not scale).  ingest_acct_prepare, with no
 * lock: the PDU's hash for the duplicate check and, when `copy`, its copy
 * for the hash checks; ingest_acct_pdu_prepared, under the lock: as
 * ingest_acct_pdu, taking the copy if it retains the PDU (making one then if
 * none was prepared; parts of a PDU it retains, such as a hash PDU's
 * IntegrityCheck for signatures, are copied there), and setting
 * p->retained when the PDU itself was retained; ingest_acct_finish, after
 * the lock: frees the copy if unused and the PDUs evicted under the lock
 * (each one atomic decrement on its copy-pool chunk: copy_pool.c, no lock).
 * The result equals ingest_acct_pdu's for any `copy`: only who pays for
 * the copy changes. */
struct ingest_acct_pre {
	uint64_t hash;
	const uint8_t *src;         /* the PDU prepared (what the copy holds) */
	size_t len;
	void *kept;                 /* a prepared struct kept, or NULL */
	void *evicted;              /* retained PDUs dropped under the lock, to free */
	int retained;               /* out: the PDU was retained */
};
void ingest_acct_prepare(struct ingest_acct_pre *p, const uint8_t *pdu, size_t len, int copy);
int ingest_acct_pdu_prepared(struct ingest_acct *a, const uint8_t *pdu, size_t len,
                             struct ingest_acct_pre *p, const struct etsi_pdu *d, int listener,
                             uint64_t conn_id);
void ingest_acct_finish(struct ingest_acct_pre *p);

/* A worker's data PDUs accounted under one lock (acct_batch.c): add plain
 * IRI/CC data PDUs (ingest_acct_batchable) as they are sealed; to apply,
 * ingest_acct_batch_prepare with no lock, ingest_acct_batch_apply under the
 * accounting lock, ingest_acct_batch_finish after it.  The accounting is
 * that of ingest_acct_pdu_prepared on each PDU in the order added. */
struct acct_bent {               /* one data PDU waiting to be accounted */
	size_t off, len;             /* its bytes in bytes */
	size_t liid_off, liid_len;   /* its LIID in bytes */
	uint64_t seq, conn_id;
	uint32_t cin;
	uint8_t has_cin, kind, listener, copy;
	struct ingest_acct_pre pre;  /* prepare's hash and copy; retained, out */
};
struct ingest_acct_batch {
	struct lacre_dbuf bytes;     /* the PDUs' bytes and LIIDs */
	struct acct_bent *e;
	size_t n, cap;
	struct etsi_pdu d;           /* apply's scratch */
};
void ingest_acct_batch_init(struct ingest_acct_batch *b);
void ingest_acct_batch_free(struct ingest_acct_batch *b);
int ingest_acct_batchable(const struct etsi_pdu *d);
int ingest_acct_batch_add(struct ingest_acct_batch *b, const uint8_t *pdu, size_t len,
                          const struct etsi_pdu *d, int listener, uint64_t conn_id, int copy);
void ingest_acct_batch_prepare(struct ingest_acct_batch *b);
void ingest_acct_batch_apply(struct ingest_acct *a, struct ingest_acct_batch *b);
int ingest_acct_batch_finish(struct ingest_acct_batch *b);

#endif
