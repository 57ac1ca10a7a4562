/*
 * frame.c - the keeper's framed stream (include/lacre/keeper.h): type byte,
 * u32 big-endian length, payload of at most KEEPER_FRAME_MAX bytes.  The
 * reader declares its capacity and never allocates from a length it read.
 */
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/keeper.h"

/* Milliseconds of the monotonic clock. */
static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int keeper_read_full(int fd, int timeout_ms, void *p, size_t n)
{
	uint8_t *b = p;
	size_t got = 0;
	int64_t end = timeout_ms >= 0 ? mono_ms() + timeout_ms : 0;

	while (got < n) {
		ssize_t k;
		if (timeout_ms >= 0) {
			struct pollfd pf = { .fd = fd, .events = POLLIN };
			int64_t left = end - mono_ms();
			int pr;
			if (left <= 0)
				return LACRE_E_TIMEOUT;
			pr = poll(&pf, 1, (int)left);
			if (pr < 0 && errno == EINTR)
				continue;
			if (pr < 0)
				return LACRE_E_IO;
			if (pr == 0)
				return LACRE_E_TIMEOUT;
		}
		k = read(fd, b + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return LACRE_E_IO;
		if (k == 0)
			return got == 0 ? LACRE_E_INCOMPLETE : LACRE_E_TRUNCATED;
		got += (size_t)k;
	}
	return LACRE_OK;
}

int keeper_write_full(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t k = write(fd, b, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return LACRE_E_IO;
		b += k;
		n -= (size_t)k;
	}
	return LACRE_OK;
}

int keeper_frame_write(int fd, uint8_t type, const void *p, size_t n)
{
	uint8_t h[5];
	int r;

	if (n > KEEPER_FRAME_MAX)
		return LACRE_E_TOO_LARGE;
	h[0] = type;
	h[1] = (uint8_t)(n >> 24);
	h[2] = (uint8_t)(n >> 16);
	h[3] = (uint8_t)(n >> 8);
	h[4] = (uint8_t)n;
	if ((r = keeper_write_full(fd, h, 5)) != LACRE_OK)
		return r;
	return n ? keeper_write_full(fd, p, n) : LACRE_OK;
}

int keeper_frame_read(int fd, int timeout_ms, uint8_t *type, uint8_t *buf, size_t cap,
		      size_t *n)
{
	uint8_t h[5];
	uint32_t len;
	int r;

	if ((r = keeper_read_full(fd, timeout_ms, h, 5)) != LACRE_OK)
		return r;
	len = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 8 | h[4];
	if (len > KEEPER_FRAME_MAX || len > cap)
		return LACRE_E_TOO_LARGE;
	if (len && (r = keeper_read_full(fd, timeout_ms, buf, len)) != LACRE_OK)
		return r == LACRE_E_INCOMPLETE ? LACRE_E_TRUNCATED : r;
	*type = h[0];
	*n = len;
	return LACRE_OK;
}
