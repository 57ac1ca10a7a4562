/*
 * audio.h - a call's G.711 RTP as a stereo WAV file (RIFF, PCM 16-bit
 * little-endian, 8000 Hz, 2 channels): left = audio from the target,
 * right = audio to the target (the sides of calls.h, decided from the SDP
 * addresses, else from the operator's labels).  Each side's main SSRC is
 * ordered by RTP sequence number (16-bit numbers unwrapped), placed at
 * (sequence - first) x frame samples after the side's first packet time;
 * missing sequence numbers become silence and are reported.  The WAV header
 * is written first, from the index alone, so the first audio bytes follow
 * as soon as the first segment is decrypted.  Owned by lib/access/audio.c.
 */
#ifndef LACRE_AUDIO_H
#define LACRE_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/access.h"
#include "lacre/calls.h"
#include "lacre/index.h"

#define AUDIO_RATE 8000
#define AUDIO_WAV_HEADER 44
#define AUDIO_MAX_GAPS 1024          /* gaps listed one by one (all are counted) */

/* One run of missing RTP packets on one side. */
struct audio_gap {
	int side;                    /* enum calls_side */
	uint64_t at_sample;          /* where the silence starts */
	uint64_t packets;            /* packets missing */
	uint64_t samples;            /* silence written */
};

struct audio_report {
	uint64_t frames;             /* WAV sample frames (per channel) */
	uint64_t packets[2];         /* RTP packets written per side */
	uint64_t missing[2];         /* packets missing per side */
	uint64_t duplicates;         /* same sequence number twice */
	uint64_t other_ssrc;         /* packets of a side's other SSRCs (not written) */
	uint64_t unknown_side;       /* packets of no known side (not written) */
	uint64_t not_g711;           /* other payload types (not written) */
	uint64_t excluded[2];        /* packets per side a party copy left out
				      * (silence, not counted as missing) */
	int pt[2];                   /* payload type per side, -1 none */
	int64_t first_audio_us;      /* from the call to the first sample written */
	int plan_stored;             /* the plan came from the index (audio_plan.h), not
				      * from every packet row */
	int64_t elapsed_us;
	size_t n_gaps;               /* gaps listed in gaps[] */
	uint64_t gaps_total;         /* gaps counted */
	struct audio_gap gaps[AUDIO_MAX_GAPS];
};

/* The 44-byte header of a stereo 16-bit 8 kHz WAV of frames sample frames.
 * LACRE_E_TOO_LARGE past the RIFF 4 GiB limit. */
int audio_wav_header(uint64_t frames, uint8_t out[AUDIO_WAV_HEADER]);

/* Write call c's audio to path (created with mode 0600; must not exist:
 * LACRE_E_EXISTS; written to path.part and renamed when complete).  The
 * records are read back through index_read (every chunk verified, every
 * record matched with its commitment) and parsed again from their own
 * bytes.  rep (heap: it is large) receives the report.  LACRE_E_NOT_FOUND
 * when the call has no G.711 RTP.  The plan comes from the index's stored
 * plan when it is fresh (audio_plan.h: only a chunk of rows before the
 * first byte, the report worked out again from the rows at the end), else
 * from every packet row, and is then stored (rep->plan_stored says which);
 * the bytes are the same.  LACRE_E_DB also when a stored plan does not
 * match the rows it is read with (nothing is renamed into place). */
int audio_write(struct index *ix, struct lacre_store *st, const struct age_x25519_identity *id,
		const struct calls_entry *c, const char *path,
		void (*problem)(void *arg, const char *segment, int err, const char *what),
		void *arg, struct audio_report *rep);
/* audio_write leaving out the records skip names (may be NULL): their
 * samples stay silence, counted in rep->excluded (a party copy keeps the
 * rest of the call).  The export's path: it always plans from every
 * packet row, never from (nor into) the plan stored in the index, which
 * audio_write uses (docs/cmd-audio.md, "The stored plan"). */
int audio_write_skip(struct index *ix, struct lacre_store *st, const struct age_x25519_identity *id,
		     const struct calls_entry *c, const char *path, const struct access_skip *skip,
		     void (*problem)(void *arg, const char *segment, int err, const char *what),
		     void *arg, struct audio_report *rep);

#endif
