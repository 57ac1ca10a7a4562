/*
 * etsi_json.h - one decoded PS-PDU as a JSON object (the format of
 * `lacre decode`, documented in docs/cmd-decode.md).
 *
 * The object always carries the common keys of the test vectors
 * (../shared/vectors/README.md): offset, length, liid, cin, seq, kind, time,
 * iri_type, content; then the other header fields, the payload summary,
 * and a sub-object per decoded content (sip, rtp, ip, ipiri, integrity,
 * hi1, encryption, operator_message).  Keys whose value is absent are
 * omitted, except the common keys, which are null when absent.
 */
#ifndef LACRE_ETSI_JSON_H
#define LACRE_ETSI_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/etsi.h"
#include "lacre/json.h"

#define ETSI_JSON_RAW      0x01u  /* add "raw": hex of the whole PDU */
#define ETSI_JSON_CONTENT  0x02u  /* add "content_b64": base64 of content_bytes */

/* Write pdu (decoded from raw[0..n), found at byte offset off of its
 * stream) as one JSON object into w.  Errors are w's sticky error. */
void etsi_json_pdu(struct json_w *w, const struct etsi_pdu *pdu,
		   const uint8_t *raw, size_t n, uint64_t off, unsigned flags);

/* Format Unix microseconds as "YYYY-MM-DDThh:mm:ss.uuuuuuZ" into out
 * (at least ETSI_JSON_TIME_LEN bytes).  Returns out. */
#define ETSI_JSON_TIME_LEN 40
char *etsi_json_time(int64_t unix_us, char *out);

#endif
