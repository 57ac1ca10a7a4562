/*
 * record.h - one received PS-PDU with its receipt metadata, as it moves from
 * the handover receiver (lib/ingest) to a sink (the local spool, later the
 * sealed vault).  The original BER bytes are the evidence: they are carried
 * untouched; every other field is derived or observed by lacre.
 */
#ifndef LACRE_RECORD_H
#define LACRE_RECORD_H

#include <stddef.h>
#include <stdint.h>

enum lacre_listener {
	LACRE_HI2 = 2,   /* IRI */
	LACRE_HI3 = 3    /* CC */
};

struct etsi_pdu;

struct lacre_record {
	const uint8_t *pdu;   /* the PS-PDU exactly as received */
	size_t pdu_len;
	int64_t recv_us;      /* lacre's receive time, Unix microseconds (UTC) */
	uint8_t listener;     /* enum lacre_listener */
	uint64_t conn_id;     /* connection number, unique per ingest process */
	char peer[64];        /* "ip:port" of the sender */
	/* etsi_decode() of pdu when the caller already ran it successfully
	 * (the receiver does, for keep-alives and accounting), so that the
	 * sink need not decode again; NULL otherwise.  Valid during the
	 * record() call only. */
	const struct etsi_pdu *decoded;
	/* the pre-encryption form of an encrypted PDU the receiver decrypted
	 * (etsi_preencryption_form: same length as pdu), sealed beside the
	 * PDU so that readers need no handover key; NULL otherwise.  Valid
	 * during the record() call only. */
	const uint8_t *pre;
	size_t pre_len;
	/* the connection's authenticated operator (lacre.conf), "" when none */
	char operator_name[65];
};

/* A sink takes records from the receiver.  record() must make the record
 * durable enough that a clean stop loses nothing (it may buffer until
 * flush()); it returns a lacre_err.  flush() is called on idle timers and at
 * SIGTERM; close() once at the end.  read_done() (NULL: none) is called on
 * the receiving thread after the records of each read from a connection,
 * before the next read: the seal sink names them in its open segments'
 * manifests there, so that a kill -9 leaves nothing it read unnamed. */
struct lacre_sink {
	void *ctx;
	int (*record)(void *ctx, const struct lacre_record *rec);
	int (*event)(void *ctx, const char *json_line); /* accounting and alerts, one JSON object */
	int (*flush)(void *ctx);
	int (*close)(void *ctx);      /* LACRE_OK when every record taken is durable */
	int (*read_done)(void *ctx);  /* after one read's records; may be NULL */
	/* why record() answers LACRE_E_NOSPACE now, for the receiver's ALERT
	 * line: a sentence, or NULL (and the member itself may be NULL) for
	 * "local storage full or its quota reached" */
	const char *(*refusal)(void *ctx);
};

#endif
