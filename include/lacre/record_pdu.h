/*
 * record_pdu.h - what a reader decodes for a sealed record: the PDU's
 * pre-encryption form when the receiver decrypted it (frame record
 * version 2, docs/FORMATS.md §3.2), else the PDU as received.
 *
 * The handover key stays in the receiver's cell: every reader after intake
 * (records, the index and calls, audio, pcap, export, lacre-verify and its
 * extraction) calls record_pdu_decode() and so sees the decrypted payload
 * without a key.  The pre-encryption form is trusted only as far as it is
 * consistent with the PDU: the same bytes everywhere but the
 * EncryptionContainer's encryptionType octet (none(1) in the form) and the
 * ciphertext (the plaintext in the form, same length), and a well-formed
 * EncryptedPayload there.  Its origin is the record commitment (§3.3),
 * which covers both and which the signed ingest log holds from intake on.
 *
 * Keyless, network-, site- and SQLite-free: lacre-verify links it.  Owned
 * by lib/wire/record_pdu.c.
 */
#ifndef LACRE_RECORD_PDU_H
#define LACRE_RECORD_PDU_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"
#include "lacre/etsi.h"
#include "lacre/frame.h"

/* A decoded view of one record; reuse it across records (init once, free
 * once).  plain is marked secret and wiped on reuse and free. */
struct record_pdu {
	struct etsi_pdu pdu;        /* the decoded view; its payload pointers
				     * point into plain (decrypted) or into the
				     * record's PDU */
	struct lacre_dbuf plain;    /* the decrypted EncryptedPayload */
	int decrypted;              /* 1: decoded from the pre-encryption form */
	const char *why;            /* after LACRE_E_VERIFY: what is inconsistent */
};

void record_pdu_init(struct record_pdu *v);
void record_pdu_free(struct record_pdu *v);

/*
 * Decode record r into v->pdu: from r->pre when present (v->decrypted = 1;
 * pdu.decrypted and byte_counter set, pdu.enc describing the container as
 * received, pdu.flags including the record's notes), else from r->pdu (an
 * encrypted PDU the receiver could not decrypt stays its ciphertext view).
 * Returns LACRE_OK, etsi_decode's errors for a PDU whose outer structure
 * is unsound, or LACRE_E_VERIFY (v->why says what) when r->pre is not the
 * pre-encryption form of r->pdu.  The view is valid while r's bytes and v
 * are, until the next call.
 */
int record_pdu_decode(const struct frame_record *r, struct record_pdu *v);

#endif
