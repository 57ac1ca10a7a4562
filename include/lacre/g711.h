/*
 * g711.h - ITU-T G.711 companding: µ-law (PCMU, RTP payload type 0) and
 * A-law (PCMA, payload type 8) to and from 16-bit linear PCM.
 *
 * lacre-mediator encodes the simulated voice with it; the access domain
 * decodes intercepted RTP payloads with it to write WAV files.  The tables
 * are computed, not stored: the functions are pure and never fail.
 *
 * Known values: µ-law 0 <-> FF, 0x80 -> +32124, 0x00 -> -32124;
 * A-law 0 -> D5, D5 -> +8, 0x55 -> -8, 0xAA -> +32256, 0x2A -> -32256.
 */
#ifndef LACRE_G711_H
#define LACRE_G711_H

#include <stddef.h>
#include <stdint.h>

enum g711_law {
	G711_ULAW = 0,  /* PCMU, RTP payload type 0 */
	G711_ALAW = 8   /* PCMA, RTP payload type 8 */
};

/* One sample. */
uint8_t g711_ulaw_encode(int16_t pcm);
int16_t g711_ulaw_decode(uint8_t code);
uint8_t g711_alaw_encode(int16_t pcm);
int16_t g711_alaw_decode(uint8_t code);

/* n samples of law (enum g711_law, i.e. the RTP payload type) from pcm[] to
 * out[]; returns 0, or -1 for an unknown law (nothing written). */
int g711_encode(int law, const int16_t *pcm, size_t n, uint8_t *out);
/* n codes of law from in[] to pcm[]; returns 0, or -1 for an unknown law. */
int g711_decode(int law, const uint8_t *in, size_t n, int16_t *pcm);

#endif
