/*
 * test_audio.c - the WAV header lacre audio writes (lib/access/audio.c):
 * every byte of it for a known length, and the RIFF size limit.
 */
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "lacre/audio.h"
#include "lacre/err.h"

/* 1 s of stereo 16-bit 8 kHz: the 44 bytes spelled out. */
static void test_wav_header(void)
{
	static const uint8_t want[AUDIO_WAV_HEADER] = {
		'R', 'I', 'F', 'F', 0x24, 0x7d, 0x00, 0x00,   /* 36 + 32000 */
		'W', 'A', 'V', 'E', 'f', 'm', 't', ' ',
		0x10, 0x00, 0x00, 0x00,                       /* fmt size 16 */
		0x01, 0x00, 0x02, 0x00,                       /* PCM, 2 channels */
		0x40, 0x1f, 0x00, 0x00,                       /* 8000 Hz */
		0x00, 0x7d, 0x00, 0x00,                       /* 32000 bytes/s */
		0x04, 0x00, 0x10, 0x00,                       /* block 4, 16 bits */
		'd', 'a', 't', 'a', 0x00, 0x7d, 0x00, 0x00    /* 32000 data bytes */
	};
	uint8_t h[AUDIO_WAV_HEADER];

	CHECK_OK(audio_wav_header(8000, h));
	CHECK_MEM(h, want, sizeof(want));
	CHECK_OK(audio_wav_header(0, h));
	CHECK_EQ_INT(h[4], 36);
	CHECK_EQ_INT(h[40] | h[41] | h[42] | h[43], 0);
}

/* A RIFF file holds at most 4 GiB: longer audio is refused, not wrapped. */
static void test_wav_limit(void)
{
	uint8_t h[AUDIO_WAV_HEADER];
	uint64_t max = ((uint64_t)UINT32_MAX - 36) / 4;

	memset(h, 0x5a, sizeof(h));
	CHECK_OK(audio_wav_header(max, h));
	CHECK_EQ_INT((uint32_t)(h[40] | h[41] << 8 | h[42] << 16 | (uint32_t)h[43] << 24), max * 4);
	memset(h, 0x5a, sizeof(h));
	CHECK_EQ_INT(audio_wav_header(max + 1, h), LACRE_E_TOO_LARGE);
	CHECK_EQ_INT(h[0], 0x5a);   /* untouched on failure */
}

int main(void)
{
	RUN(test_wav_header);
	RUN(test_wav_limit);
	return t_done();
}
