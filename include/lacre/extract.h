/*
 * extract.h - lacre-verify --extract: the court opens what it verified
 * (docs/cmd-lacre-verify.md "Extraction").  From a package that
 * verify_package() found VERIFIED, re-derive from the sealed records
 * themselves (never from the package's own renderings):
 *   records.jsonl            each record's JSON (the form of `lacre records
 *                            --json`, with the decoded plaintext of the
 *                            records the receiver decrypted)
 *   <liid>-<cin>/content.pcap   the CC packets of each communication
 *                            (LINKTYPE_RAW, pcap.h)
 *   <liid>-<cin>/<direction>-<ssrc>.wav   each G.711 RTP stream of a call
 *                            (one direction), mono 16-bit 8 kHz, missing
 *                            RTP sequence numbers as silence
 *   extract.txt              what was written from which records, and per
 *                            record its leaf and commitment in the signed
 *                            ingest log: the decrypted content shown is the
 *                            pre-encryption form the commitment covers, so
 *                            it came from the sealed PDU at intake
 * Keyless, network-, site- and SQLite-free (lacre-verify links libcrypto
 * only): record_pdu.h, rtp.h, pcap.h's packet half, g711.h.  Owned by
 * lib/verify/extract.c.
 */
#ifndef LACRE_EXTRACT_H
#define LACRE_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/package.h"

struct extract_report {
	uint64_t records;        /* record JSON lines written */
	uint64_t decrypted;      /* ... of records decoded from their pre-encryption form */
	uint64_t pcaps, packets; /* pcap files, packets in them */
	uint64_t wavs, rtp;      /* WAV files, RTP packets in them */
	uint64_t missing;        /* RTP packets missing (silence written) */
	uint64_t skipped;        /* CC records without an IP packet or G.711 audio */
};

/*
 * Write the extraction of pk (which must have VERIFIED: the caller's
 * business) into the folder dir, which must not exist (LACRE_E_EXISTS).
 * Everything is written into a fresh sibling folder (mode 0700, files
 * 0600, never through a symbolic link) that is renamed to dir only when
 * complete; on failure it is removed and nothing is left.  msg (may be
 * NULL) says what failed.  LACRE_E_EXISTS, LACRE_E_IO, LACRE_E_NOMEM,
 * LACRE_E_MALFORMED (a record that no longer decodes: cannot happen after
 * verification), LACRE_E_TOO_LARGE (a stream beyond the caps).
 */
int extract_package(const struct package *pk, const char *dir, struct extract_report *rep,
		    char *msg, size_t msglen);

#endif
