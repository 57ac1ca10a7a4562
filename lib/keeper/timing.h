/*
 * timing.h - LACRE_KEEPER_TIMING: where a keeper request's time goes
 * (docs/keeper.md "Timing", docs/performance.md "Console audio").
 *
 * With LACRE_KEEPER_TIMING=1 in the keeper's environment, the main
 * process, each handler and each worker write one stderr line per phase
 * of a request to the keeper's own standard error (never to the client's
 * stream): "lacre keeper: timing: req=H t=US PHASE", H the handler's pid
 * (one per request), US the CLOCK_MONOTONIC time in microseconds, so that a
 * client on the same host (bench/console.sh) can line them up with its
 * own clock.  Names and times only: no argument, user or content.  Off by
 * default: then every call is a test of one flag.  The clock, the on/off
 * rule and the line are include/lacre/phase_timing.h's (phase_timing_now
 * gives the times keeper_timing_at takes).
 */
#ifndef LACRE_KEEPER_TIMING_H
#define LACRE_KEEPER_TIMING_H

#include <stdint.h>
#include <sys/types.h>

#include "lacre/phase_timing.h"

/* Read LACRE_KEEPER_TIMING (the main process, once at start). */
void keeper_timing_init(void);

/* Whether timing is on. */
int keeper_timing_on(void);

/* In a worker: its timing lines go to fd (a copy of the keeper's stderr,
 * taken before the worker's stderr became the client's pipe), for request
 * req. */
void keeper_timing_worker(int fd, pid_t req);

/* Write the line of phase what at time t (phase_timing_now) of request
 * req (0: this process's request, as set by keeper_timing_worker or
 * keeper_timing_request). */
void keeper_timing_at(pid_t req, int64_t t, const char *what);

/* keeper_timing_at(0, now, what). */
void keeper_timing_mark(const char *what);

/* In a handler: the request's id is this process's pid. */
void keeper_timing_request(pid_t req);

#endif
