/*
 * fuzz_vault.c - libFuzzer harness for what the access domain reads back
 * from untrusted storage: age files (header, stanzas, STREAM chunks, the
 * keyless fingerprint), record frames and segment header frames, and the
 * bech32 age recipient / identity strings.
 *
 * A fixed X25519 identity is tried on every input, so inputs that grow a
 * valid stanza for it reach the payload code.  Nothing may crash, read
 * outside the input, or release plaintext of a chunk whose tag failed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/age.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct age_x25519_identity id;
	static int have_id;
	struct age_reader *ar = NULL;
	struct lacre_dbuf out;
	struct lacre_rbuf b, body;
	struct frame_record rec;
	struct frame_segment_header h;
	uint8_t fp[32], pub[32], type;
	char s[256];
	int fin = 0;

	if (!have_id) {
		memset(id.secret, 0x42, sizeof(id.secret));
		age_x25519_derive_public(&id);
		have_id = 1;
	}
	/* age: fingerprint and a chunk-by-chunk read */
	(void)age_fingerprint(data, size, fp);
	lacre_dbuf_init(&out, 1 << 20);
	if (age_reader_new(data, size, &id, &ar) == LACRE_OK) {
		while (!fin && age_reader_next(ar, &out, &fin) == LACRE_OK)
			lacre_dbuf_reset(&out);
		age_reader_free(ar);
	}
	lacre_dbuf_free(&out);
	/* frames: a sequence of frames, each body decoded strictly */
	lacre_rbuf_init(&b, data, size);
	while (frame_next(&b, &type, &body) == LACRE_OK) {
		if (type == FRAME_RECORD)
			(void)frame_record_decode_body(body, &rec);
		else if (type == FRAME_SEGMENT_HEADER)
			(void)frame_segment_header_decode_body(body, &h);
	}
	(void)frame_record_decode(data, size, &rec);
	/* recipient and identity strings */
	if (size < sizeof(s)) {
		memcpy(s, data, size);
		s[size] = 0;
		(void)age_recipient_parse(s, pub);
		(void)age_identity_parse(s, &(struct age_x25519_identity){ 0 });
	}
	return 0;
}
