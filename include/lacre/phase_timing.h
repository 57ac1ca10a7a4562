/*
 * phase_timing.h - phase lines: where a request's time goes, one line per
 * phase on a file descriptor (standard error unless set), turned on by an
 * environment variable.  One copy for the keeper (LACRE_KEEPER_TIMING,
 * lib/keeper/timing.c), the console (LACRE_CONSOLE_TIMING,
 * lib/console/timing.c) and the audio plan (LACRE_AUDIO_TIMING,
 * lib/access/audio.c); bench/console.sh and tests/e2e/audio_stream.sh
 * read their lines.
 *
 * Two line forms (PREFIX and TAG end in their own space; nothing is added):
 *   PREFIX TAG t=US PHASE         phase_timing_at / phase_timing_mark: US
 *                                 the CLOCK_MONOTONIC time in microseconds
 *                                 (another process on the host can put its
 *                                 own clock beside it); TAG is the caller's
 *                                 ("req=H " for the keeper), or empty
 *   PREFIX PHASE at MS ms         phase_timing_since: milliseconds (one
 *                                 decimal) since the caller's start
 *
 * Names and times only: a caller never passes a path, id, user or
 * content.  Off by default; then each mark costs one atomic load.  A line
 * is one write(2), so that the lines of several processes or threads on
 * one descriptor stay whole; a line longer than 255 bytes is not written.
 */
#ifndef LACRE_PHASE_TIMING_H
#define LACRE_PHASE_TIMING_H

#include <stdatomic.h>
#include <stdint.h>

/* One set of phase lines; static, set up with PHASE_TIMING_INIT. */
struct phase_timing {
	const char *env;     /* the variable that turns the lines on */
	const char *prefix;  /* each line's start, e.g. "lacre-console: timing: " */
	atomic_int on;       /* -1: env not read yet; else 0 or 1 (threads
	                      * may read it at once: each stores the same) */
	atomic_int fd;       /* where lines go; < 0: nowhere */
};

#define PHASE_TIMING_INIT(env, prefix) { (env), (prefix), -1, 2 }

/* Read pt's variable now: on unless unset, "" or "0". */
void phase_timing_init(struct phase_timing *pt);

/* Whether pt is on (the variable read at the first call). */
int phase_timing_on(struct phase_timing *pt);

/* Lines of pt go to fd from now on (< 0: nowhere). */
void phase_timing_fd(struct phase_timing *pt, int fd);

/* CLOCK_MONOTONIC now, in microseconds: the clock of every line. */
int64_t phase_timing_now(void);

/* When pt is on: "PREFIX TAG t=US PHASE" for phase what at time t
 * (phase_timing_now), tag NULL or "" for none. */
void phase_timing_at(struct phase_timing *pt, const char *tag, int64_t t, const char *what);

/* phase_timing_at(pt, NULL, now, what). */
void phase_timing_mark(struct phase_timing *pt, const char *what);

/* When pt is on: "PREFIX PHASE at MS ms", MS the milliseconds from t0
 * (phase_timing_now) to now. */
void phase_timing_since(struct phase_timing *pt, int64_t t0, const char *what);

/* The line of phase_timing_since with us microseconds given (its test). */
void phase_timing_after(struct phase_timing *pt, int64_t us, const char *what);

#endif
