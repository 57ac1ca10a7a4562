/*
 * simd.h - settle the CPU's vector state after a library's wide-vector code.
 *
 * OpenSSL's ChaCha20-Poly1305 (and AES-GCM) run AVX-512 code and return
 * with the upper halves of the vector registers in use.  The SHA-256 that
 * lacre runs next for every record (the commitment, SHA extensions: legacy
 * SSE encodings) then pays for that state on every block until something
 * clears it: measured on this project's AMD EPYC VMs, SHA-256 over
 * 1,520-byte records interleaved with 64 KiB ChaCha20-Poly1305 chunks took
 * 1.72 cycles a byte, 1.47 with VZEROUPPER after each chunk (the same as
 * with no cipher between the hashes).
 */
#ifndef LACRE_SIMD_H
#define LACRE_SIMD_H

/* Clear the upper halves of the vector registers (VZEROUPPER) when the CPU
 * has AVX; nothing elsewhere.  Cheap (a few cycles): call it before the
 * SHA-256 that pays for the state (segment_writer_add, once a record) or
 * after a call into wide-vector library code, not per byte. */
void lacre_simd_settle(void);

#endif
