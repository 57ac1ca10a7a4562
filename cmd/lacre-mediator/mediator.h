/*
 * mediator.h - internal interfaces of lacre-mediator, the sending-side
 * simulator (a stand-in for an operator's mediation device).
 *
 * Reading order: main.c (options, the run loop, exit status), traffic.c
 * (targets, calls and sessions turned into PS-PDUs in virtual time),
 * synth.c (audio and IP packet bytes), integrity.c (hash and signature
 * chains as OpenLI builds them), net.c (handover connections, keep-alives,
 * fault injection, the --output files), summary.c (the --summary JSON).
 *
 * Data flow: the generator emits each PDU through med_sink_put(), which
 * queues it on the handover (HI2 or HI3 of one connection pair) it belongs
 * to; net.c writes queues to sockets or files and counts what was written.
 * Everything random comes from one seeded PRNG, so a seed and --start-time
 * fix every output byte.
 */
#ifndef LACRE_MEDIATOR_H
#define LACRE_MEDIATOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lacre/buf.h"

#define MED_VERSION "0.1"
#define MED_MAX_PDU (1u << 20)

/* PDU classes, for accounting. */
enum med_cls {
	MED_CLS_DATA = 0,   /* IRI or CC: counted in "sent" */
	MED_CLS_INTEGRITY,  /* integrity-check hash or signature */
	MED_CLS_RESET,      /* cINReset */
	MED_CLS_HI1,        /* HI1-Operation */
	MED_CLS_KEEPALIVE   /* keep-alive (net.c's own) */
};

enum med_time_style { MED_TS_MICRO = 2, MED_TS_GENERALIZED = 1 };

/* Options (main.c fills them). */
struct med_opts {
	const char *hi2, *hi3;          /* "host:port" */
	const char *output;             /* --output FILE prefix, or NULL */
	const char *replay;             /* --replay FILE prefix, or NULL */
	const char *summary;            /* --summary FILE, or NULL */
	const char *sent_log;           /* --sent-log FILE, or NULL */
	int tls;
	const char *tls_ca, *tls_cert, *tls_key;
	int allow_remote;
	const char *liid_prefix;
	int binary_liid;                /* LIIDs as raw octets */
	unsigned targets;
	unsigned connections;
	double rate;                    /* PDUs per second in total, 0 = unpaced */
	double duration;                /* seconds, 0 = until the work is done */
	long long calls, sessions;      /* -1 = default */
	long long pdus;                 /* stop after N data PDUs, 0 = no limit */
	double call_seconds;            /* media length of each call */
	unsigned session_packets;       /* IP packets of each session */
	int bulk;                       /* --bulk: sessions send 1460-byte TCP segments only */
	uint64_t seed;
	int have_start;
	int64_t start_us;               /* Unix microseconds */
	int time_style;                 /* enum med_time_style */
	int len_style;                  /* enum ber_enc_len_style */
	const char *domain_id;
	const char *operator_id;
	const char *network_element;
	const char *country;
	const char *interception_point;
	const char *location;           /* targetLocation of IPIRI events, or NULL */
	int has_cell;                   /* --cell: IPIRI events carry location [24] */
	uint8_t cell_uli[13];           /* its GTPv2 ULI: TAI + ECGI (flags 0x18) */
	unsigned mediator_id;
	uint64_t seq_start;
	int unknown_ext;
	const char *keepalive_liid;     /* LIID of keep-alives */
	double keepalive;               /* seconds, 0 = off */
	double keepalive_wait;          /* seconds, 0 = no response needed */
	int final_keepalive;
	double reconnect_wait;
	double connect_timeout;
	double stall_timeout;
	const char *integrity_hash;     /* NULL = off */
	unsigned integrity_every;
	const char *sign_key;           /* PEM private key, or NULL */
	unsigned sign_every;
	const char *sign_digest;        /* sha256 ... */
	int sign_style;                 /* 0 spec §8.3, 1 OpenLI code */
	int hi1;
	/* faults */
	int split_writes;
	int garbage;
	unsigned long disconnect_every;
	unsigned resend_after_reconnect;
	unsigned long inject_gaps;
	unsigned long inject_resets;
	unsigned long inject_restarts;
	int realtime;
	int verbose;
};

/* Per-stream accounting: one per (LIID, CIN, IRI|CC). */
struct med_stream {
	uint32_t target;
	uint32_t cin;
	uint8_t cc;                     /* 0 IRI, 1 CC */
	uint64_t sent;
};

/* Counters written to the summary. */
struct med_stats {
	uint64_t pdus_sent, bytes_sent, data_pdus_sent;
	uint64_t integrity_sent, resets_sent, hi1_sent;
	uint64_t keepalives_sent, keepalive_ok, keepalive_failures;
	uint64_t reconnects, truncated, garbage_bytes;
	uint64_t inj_gaps, inj_duplicates, inj_resets, inj_restarts;
	uint64_t generated;             /* PDUs the generator emitted */
	uint64_t errors;
};

/* Where a PDU goes and what it is. */
struct med_meta {
	unsigned pair;                  /* connection pair index */
	int hi3;                        /* 0 HI2, 1 HI3 */
	int cls;                        /* enum med_cls */
	int32_t stream;                 /* med_stream index for DATA, else -1 */
};

struct med_gen;
struct med_net;
struct med_integrity;

/* The whole run. */
struct med_ctx {
	struct med_opts o;
	struct med_stats st;
	struct med_stream *streams;
	size_t n_streams, cap_streams;
	char (*liids)[32];              /* per target, printable form */
	size_t *liid_lens;
	struct med_gen *gen;
	struct med_net *net;
	struct med_integrity *integ;
	int64_t t0_us;                  /* virtual time origin (Unix µs) */
	int64_t vnow;                   /* virtual time of the latest step */
	double wall0;                   /* monotonic seconds at start */
	int failed;                     /* a fatal error was reported */
};

/* Deterministic PRNG (xoshiro256**), seeded through splitmix64. */
struct med_rng { uint64_t s[4]; };
void med_rng_seed(struct med_rng *r, uint64_t seed);
uint64_t med_rng_next(struct med_rng *r);
/* Uniform in [0, n) (n > 0). */
uint32_t med_rng_below(struct med_rng *r, uint32_t n);
/* Uniform double in [0, 1). */
double med_rng_unit(struct med_rng *r);

/* Monotonic and wall clocks in seconds / microseconds. */
double med_mono(void);
int64_t med_wall_us(void);

/* Log helpers: one line to stderr, prefixed "lacre-mediator: ". */
void med_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void med_debug(struct med_ctx *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* replay.c: send the files --output wrote (FILE[.pair].hi2/.hi3) to --hi2
 * and --hi3, print one JSON line of figures; 0 or a lacre_err. */
int med_replay(struct med_ctx *m);

/* summary.c */
int32_t med_stream_add(struct med_ctx *m, uint32_t target, uint32_t cin, int cc);
int med_summary_write(struct med_ctx *m, const char *path);

/* traffic.c: the generator. */
int med_gen_init(struct med_ctx *m);
/* Emit the next step (one data PDU plus any TRI PDUs it triggers).
 * Returns 1 when it emitted, 0 when all work is done, <0 on error. */
int med_gen_step(struct med_ctx *m);
/* Virtual time of the next step (Unix µs), or -1 when done. */
int64_t med_gen_next_time(struct med_ctx *m);
/* Close open chains, emit final integrity PDUs and HI1 deactivations. */
int med_gen_finish(struct med_ctx *m);
void med_gen_free(struct med_ctx *m);
/* Fill a PSHeader's common fields for target t (NULL: keep-alive header). */
struct etsi_enc_header;
void med_header(struct med_ctx *m, struct etsi_enc_header *h, const uint8_t *liid,
    size_t liid_len, int has_cin, uint32_t cin, uint64_t seq, int64_t t_us);

/* integrity.c */
int med_integrity_init(struct med_ctx *m);
/* A data PDU of chain (stream) was emitted: feed it, maybe emit hash and
 * signature PDUs.  h is the data PDU's header (for LIID, CIN, time). */
struct med_chain;
struct med_chain *med_chain_new(struct med_ctx *m);
int med_chain_data(struct med_ctx *m, struct med_chain *c, const struct etsi_enc_header *h,
    const struct med_meta *meta, int data_type, const uint8_t *pdu, size_t n);
/* Emit whatever is pending (final hash, final signature) and reset. */
int med_chain_flush(struct med_ctx *m, struct med_chain *c, const struct etsi_enc_header *h,
    const struct med_meta *meta, int data_type);
void med_chain_free(struct med_chain *c);
void med_integrity_free(struct med_ctx *m);

/* net.c */
int med_net_init(struct med_ctx *m);
/* Queue one PDU for its handover. */
int med_sink_put(struct med_ctx *m, const struct med_meta *meta, const uint8_t *p, size_t n);
/* 1 when the generator may emit more (queues not over their cap). */
int med_net_has_room(struct med_ctx *m);
/* Service sockets for at most timeout seconds (writes, reads, keep-alives,
 * reconnects).  Returns 0, or <0 after a fatal error. */
int med_net_service(struct med_ctx *m, double timeout);
/* 1 when every queue is empty and nothing is outstanding. */
int med_net_idle(struct med_ctx *m);
/* Final keep-alives, drain, close; bounded by deadline (monotonic s). */
int med_net_finish(struct med_ctx *m, double deadline);
void med_net_free(struct med_ctx *m);

/* synth.c: audio and packets. */
struct med_voice {
	int kind;                       /* 0 tone, 1 dual tone, 2 speech-like */
	double f1, f2, phase1, phase2;
	double pitch, pitch_target, glottal_phase;
	double formant[3], formant_target[3];
	double res_state[3][2];
	double env, env_target;
	uint32_t syl_left;              /* samples left in the current syllable */
	int in_pause;
	struct med_rng rng;
};
void med_voice_init(struct med_voice *v, int kind, uint64_t seed);
/* 160 samples (20 ms at 8 kHz) of the voice. */
void med_voice_frame(struct med_voice *v, int16_t pcm[160]);

/* IPv4 packet builders: write into out (>= 20 + 8/20 + payload bytes),
 * return the packet length.  Checksums are computed. */
size_t med_ip_udp(uint8_t *out, const uint8_t src[4], const uint8_t dst[4],
    uint16_t sport, uint16_t dport, uint16_t ip_id, uint8_t ttl,
    const uint8_t *payload, size_t n);
size_t med_ip_tcp(uint8_t *out, const uint8_t src[4], const uint8_t dst[4],
    uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
    uint16_t ip_id, uint8_t ttl, const uint8_t *payload, size_t n);
size_t med_ip_icmp_echo(uint8_t *out, const uint8_t src[4], const uint8_t dst[4],
    int reply, uint16_t ident, uint16_t seq, uint16_t ip_id, uint8_t ttl);

#endif
