/*
 * relay.c - the console relays keeper requests signed in the browser
 * (console.h, docs/console.md, docs/FORMATS.md §11 and §15).
 *
 * The console holds no key and signs nothing.  For POST /api/run the
 * browser has built and signed a complete keeper request (FORMATS §11);
 * the console checks only that it parses and that its user is the
 * session's (a session cannot carry another user's request), then sends
 * it to the keeper's Unix socket and reads the answer's frames:
 *
 *   O, E   gathered (stdout capped at 16 MiB, stderr at 64 KiB);
 *   F      gathered into an output file (256 MiB at most), held in memory
 *          for this session for 10 minutes under a random id, for one
 *          GET /api/file/ID (audio as audio/wav, pcap, export packages);
 *          a WAV is streamed: once its 44-byte header is in (its length
 *          is the one the header announces), the answer is {"state":
 *          "stream","file":ID} and a feeder thread goes on reading the
 *          keeper's frames into the held file as they come; GET
 *          /api/file/ID sends the announced length, each byte as it
 *          arrives, and is cut short (the connection closed before the
 *          Content-Length) if the command fails; GET /api/file/ID/done
 *          waits for the exit frame and answers as "done" below;
 *   S      the relay is parked under a random id (at most 16 relays, 4 per
 *          session, 120 s each: the keeper's own wait) and the HTTP answer
 *          carries the payload for the browser to check and sign; POST
 *          /api/sign with that id sends the browser's signature (or an
 *          empty one: refused) as the G frame and the reading goes on;
 *   X      the HTTP answer carries the exit status, stdout and stderr.
 *
 * The keeper decides everything (signature, user enabled, replay, roles,
 * units, L8, the access log first: a file's bytes come only after it);
 * the browser decides what its user signs.  Plaintext passes through this process's memory only: it is
 * wiped when an answer or a held file is done with, and never logged.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "lacre/err.h"
#include "lacre/hex.h"
#include "lacre/json.h"
#include "lacre/keeper.h"
#include "console/console.h"

#define ERR_MAX (64u << 10)

/* One relay: a keeper connection and what its answer gathered so far. */
struct relay_state {
	uint8_t id[CONSOLE_TOKEN_LEN];   /* while parked */
	uint8_t sid[CONSOLE_TOKEN_LEN];  /* the session it belongs to */
	int fd;
	time_t at;                       /* parked since */
	char ctype[64], fname[64];       /* of its output file */
	struct lacre_dbuf out, err, file;
	int no_stream;                   /* held whole (no slot was free to stream) */
};

struct console_file {
	uint8_t id[CONSOLE_TOKEN_LEN];
	uint8_t sid[CONSOLE_TOKEN_LEN];
	uint8_t *data;
	size_t len;                      /* bytes in (a streamed file: so far) */
	size_t cap;                      /* bytes of data: the length announced */
	char ctype[64], fname[64];
	time_t at;                       /* 0: free */
	int refs;                        /* downloads in progress */
	/* a streamed file (relay.c's header) */
	int live;                        /* its feeder still reads the keeper */
	int failed;                      /* the command failed, or the relay broke */
	int drop;                        /* its session ended: free when unused */
	int kfd;                         /* the keeper connection (live) */
	uint8_t *done;                   /* the "done" answer, once ended */
	size_t done_len;
};

struct console_relay {
	pthread_mutex_t mu;
	pthread_cond_t cv;               /* a streamed file grew or ended */
	int feeders;                     /* feeder threads running */
	int closing;
	char sock[SITE_PATH_MAX];
	struct relay_state *parked[CONSOLE_PENDING_MAX];
	struct console_file files[CONSOLE_FILES_MAX];
};

static time_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + 1;
}

int console_relay_new(const char *keeper_socket, struct console_relay **out)
{
	struct console_relay *rl;

	if (strlen(keeper_socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return LACRE_E_TOO_LARGE;
	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return LACRE_E_NOMEM;
	pthread_mutex_init(&rl->mu, NULL);
	pthread_cond_init(&rl->cv, NULL);
	snprintf(rl->sock, sizeof(rl->sock), "%s", keeper_socket);
	*out = rl;
	return LACRE_OK;
}

static void state_free(struct relay_state *st)
{
	if (st == NULL)
		return;
	if (st->fd >= 0)
		close(st->fd);
	lacre_dbuf_free(&st->out);
	lacre_dbuf_free(&st->err);
	lacre_dbuf_free(&st->file);
	OPENSSL_cleanse(st, sizeof(*st));
	free(st);
}

static void file_free(struct console_file *f)
{
	if (f->data) {
		OPENSSL_cleanse(f->data, f->cap > f->len ? f->cap : f->len);
		free(f->data);
	}
	if (f->done) {
		OPENSSL_cleanse(f->done, f->done_len);
		free(f->done);
	}
	memset(f, 0, sizeof(*f));
}

void console_relay_free(struct console_relay *rl)
{
	if (rl == NULL)
		return;
	/* stop the feeders (their keeper connections end) and wait for them */
	pthread_mutex_lock(&rl->mu);
	rl->closing = 1;
	for (size_t i = 0; i < CONSOLE_FILES_MAX; i++)
		if (rl->files[i].at && rl->files[i].live)
			shutdown(rl->files[i].kfd, SHUT_RDWR);
	pthread_cond_broadcast(&rl->cv);
	while (rl->feeders > 0)
		pthread_cond_wait(&rl->cv, &rl->mu);
	pthread_mutex_unlock(&rl->mu);
	for (size_t i = 0; i < CONSOLE_PENDING_MAX; i++)
		state_free(rl->parked[i]);
	for (size_t i = 0; i < CONSOLE_FILES_MAX; i++)
		file_free(&rl->files[i]);
	pthread_cond_destroy(&rl->cv);
	pthread_mutex_destroy(&rl->mu);
	free(rl);
}

/* Drop parked relays and held files past their time (caller holds mu). */
static void reap(struct console_relay *rl, time_t t)
{
	for (size_t i = 0; i < CONSOLE_PENDING_MAX; i++)
		if (rl->parked[i] && t - rl->parked[i]->at > CONSOLE_PENDING_S) {
			state_free(rl->parked[i]);
			rl->parked[i] = NULL;
		}
	for (size_t i = 0; i < CONSOLE_FILES_MAX; i++)
		if (rl->files[i].at && rl->files[i].refs == 0 && !rl->files[i].live &&
		    (rl->files[i].drop || t - rl->files[i].at > CONSOLE_FILE_S))
			file_free(&rl->files[i]);
}

void console_relay_forget(struct console_relay *rl, const uint8_t sid[CONSOLE_TOKEN_LEN])
{
	pthread_mutex_lock(&rl->mu);
	for (size_t i = 0; i < CONSOLE_PENDING_MAX; i++)
		if (rl->parked[i] && !CRYPTO_memcmp(rl->parked[i]->sid, sid, CONSOLE_TOKEN_LEN)) {
			state_free(rl->parked[i]);
			rl->parked[i] = NULL;
		}
	for (size_t i = 0; i < CONSOLE_FILES_MAX; i++) {
		struct console_file *f = &rl->files[i];
		if (!f->at || CRYPTO_memcmp(f->sid, sid, CONSOLE_TOKEN_LEN))
			continue;
		f->drop = 1;                       /* no new download */
		if (f->live)
			shutdown(f->kfd, SHUT_RDWR);   /* its feeder ends, then frees it */
		else if (f->refs == 0)
			file_free(f);
	}
	pthread_cond_broadcast(&rl->cv);
	pthread_mutex_unlock(&rl->mu);
}

/* {"state":"error","error":msg} with status. */
static int answer_error(struct lacre_dbuf *out, int *http_status, int status, const char *msg)
{
	struct json_w w;

	lacre_dbuf_reset(out);
	json_init(&w, out);
	json_obj_begin(&w);
	json_kv_str(&w, "state", "error");
	json_kv_str(&w, "error", msg);
	json_obj_end(&w);
	*http_status = status;
	return json_finish(&w);
}

/* Park st (it waits for the browser's signature of payload p[0..n)) and
 * answer {"state":"sign","id":HEX,"payload":BASE64}.  st is consumed. */
static int park(struct console_relay *rl, struct relay_state *st, const uint8_t *p, size_t n,
		struct lacre_dbuf *out, int *http_status)
{
	char hx[2 * CONSOLE_TOKEN_LEN + 1];
	struct json_w w;
	size_t mine = 0, slot = CONSOLE_PENDING_MAX;
	time_t t = now_s();

	if (RAND_bytes(st->id, sizeof(st->id)) != 1) {
		state_free(st);
		return answer_error(out, http_status, 500, "cannot make a random id");
	}
	st->at = t;
	pthread_mutex_lock(&rl->mu);
	reap(rl, t);
	for (size_t i = 0; i < CONSOLE_PENDING_MAX; i++) {
		if (rl->parked[i] == NULL && slot == CONSOLE_PENDING_MAX)
			slot = i;
		else if (rl->parked[i] &&
			 !CRYPTO_memcmp(rl->parked[i]->sid, st->sid, CONSOLE_TOKEN_LEN))
			mine++;
	}
	if (slot == CONSOLE_PENDING_MAX || mine >= CONSOLE_PENDING_PER_SESSION) {
		pthread_mutex_unlock(&rl->mu);
		state_free(st);     /* the keeper sees the connection close: nothing signed */
		return answer_error(out, http_status, 429,
				    "too many requests wait for a signature; answer or wait 120 s");
	}
	rl->parked[slot] = st;
	pthread_mutex_unlock(&rl->mu);
	lacre_hex(st->id, sizeof(st->id), hx);
	lacre_dbuf_reset(out);
	json_init(&w, out);
	json_obj_begin(&w);
	json_kv_str(&w, "state", "sign");
	json_kv_str(&w, "id", hx);
	json_key(&w, "payload");
	json_base64(&w, p, n);
	json_obj_end(&w);
	*http_status = 200;
	return json_finish(&w);
}

/* Hold st's output file for its session; *hx receives its id. */
static int hold_file(struct console_relay *rl, struct relay_state *st, char hx[65])
{
	struct console_file *f = NULL;
	time_t t = now_s();
	size_t len;
	uint8_t *data;

	pthread_mutex_lock(&rl->mu);
	reap(rl, t);
	for (size_t i = 0; i < CONSOLE_FILES_MAX && f == NULL; i++)
		if (rl->files[i].at == 0)
			f = &rl->files[i];
	if (f == NULL) {
		pthread_mutex_unlock(&rl->mu);
		return LACRE_E_TOO_LARGE;
	}
	if (RAND_bytes(f->id, sizeof(f->id)) != 1) {
		pthread_mutex_unlock(&rl->mu);
		return LACRE_E_CRYPTO;
	}
	data = lacre_dbuf_steal(&st->file, &len);
	f->data = data;
	f->len = len;
	memcpy(f->sid, st->sid, sizeof(f->sid));
	snprintf(f->ctype, sizeof(f->ctype), "%s", st->ctype);
	snprintf(f->fname, sizeof(f->fname), "%s", st->fname);
	f->at = t;
	f->refs = 0;
	lacre_hex(f->id, sizeof(f->id), hx);
	pthread_mutex_unlock(&rl->mu);
	return LACRE_OK;
}

/* The "done" answer (FORMATS §15) of exit status status with st's
 * stdout and stderr, and hx the held file's id or NULL. */
static int done_json(struct lacre_dbuf *out, int status, const struct relay_state *st,
		     const char *hx)
{
	struct json_w w;

	lacre_dbuf_reset(out);
	json_init(&w, out);
	json_obj_begin(&w);
	json_kv_str(&w, "state", "done");
	json_kv_int(&w, "status", status);
	json_key(&w, "out");
	json_base64(&w, st->out.p, st->out.len);
	json_key(&w, "err");
	json_strn(&w, st->err.p, st->err.len);
	if (hx)
		json_kv_str(&w, "file", hx);
	json_obj_end(&w);
	return json_finish(&w);
}

/* The length a WAV announces (8 + its RIFF size) once its 44-byte header
 * p[0..n) is in and well formed, at least n and at most CONSOLE_FILE_MAX;
 * else 0 (not yet, or not a WAV to stream). */
static size_t wav_total(const uint8_t *p, size_t n)
{
	struct lacre_rbuf b;
	const uint8_t *riff, *le, *wave;
	uint32_t size;

	if (n < 44)
		return 0;
	lacre_rbuf_init(&b, p, 44);
	if (lacre_rbuf_take(&b, 4, &riff) != LACRE_OK || memcmp(riff, "RIFF", 4) != 0 ||
	    lacre_rbuf_take(&b, 4, &le) != LACRE_OK || lacre_rbuf_take(&b, 4, &wave) != LACRE_OK ||
	    memcmp(wave, "WAVE", 4) != 0)
		return 0;
	size = (uint32_t)le[0] | (uint32_t)le[1] << 8 | (uint32_t)le[2] << 16 | (uint32_t)le[3] << 24;
	if ((uint64_t)size + 8 < n || (uint64_t)size + 8 > CONSOLE_FILE_MAX)
		return 0;
	return (size_t)size + 8;
}

/* What a feeder thread is started with (it frees this). */
struct feeder {
	struct console_relay *rl;
	struct console_file *f;
	struct relay_state *st;
};

/* The feeder of a streamed file: the keeper's frames until its exit
 * frame, the file's bytes into f as they come; then f's "done" answer. */
static void *feed(void *arg)
{
	struct feeder *fa = arg;
	struct console_relay *rl = fa->rl;
	struct console_file *f = fa->f;
	struct relay_state *st = fa->st;
	struct lacre_dbuf done;
	uint8_t t, *b = malloc(KEEPER_FRAME_MAX);
	char hx[65];
	size_t n;
	int status = -1, broke = 0, ignored;

	free(fa);
	lacre_dbuf_init(&done, CONSOLE_OUT_MAX * 2 + ERR_MAX * 6 + 4096);
	lacre_dbuf_set_secret(&done);
	while (b != NULL && status < 0 && !broke) {
		if (keeper_frame_read(st->fd, CONSOLE_KEEPER_TIMEOUT_MS, &t, b, KEEPER_FRAME_MAX,
				      &n) != LACRE_OK) {
			broke = 1;
		} else if (t == KEEPER_F_FILE) {
			/* bytes past len are this thread's alone; len moves under mu */
			if (n > f->cap - f->len) {
				broke = 1;      /* more than the WAV announced */
				break;
			}
			memcpy(f->data + f->len, b, n);
			if (f->len <= 44 && f->len + n > 44)
				console_timing("keeper-past-44-in");
			pthread_mutex_lock(&rl->mu);
			f->len += n;
			pthread_cond_broadcast(&rl->cv);
			pthread_mutex_unlock(&rl->mu);
		} else if (t == KEEPER_F_STDOUT || t == KEEPER_F_STDERR) {
			if (lacre_dbuf_add(t == KEEPER_F_STDOUT ? &st->out : &st->err, b, n) != LACRE_OK)
				broke = 1;
		} else if (t == KEEPER_F_SIGN) {
			/* the browser signed the access event before any content:
			 * nobody is there to sign another; refused */
			if (keeper_frame_write(st->fd, KEEPER_F_SIGNATURE, b, 0) != LACRE_OK)
				broke = 1;
		} else if (t == KEEPER_F_EXIT && n == 1) {
			status = b[0];
		} else {
			broke = 1;
		}
	}
	if (b) {
		OPENSSL_cleanse(b, KEEPER_FRAME_MAX);
		free(b);
	}
	lacre_hex(f->id, sizeof(f->id), hx);   /* (the id never changes while live) */
	if (broke || status < 0 || (status == 0 && f->len != f->cap)) {
		if (answer_error(&done, &ignored, 502, "the keeper's answer ended early, or is "
				 "not the WAV it announced: the file is incomplete") != LACRE_OK)
			lacre_dbuf_reset(&done);
	} else if (done_json(&done, status, st, status == 0 ? hx : NULL) != LACRE_OK) {
		lacre_dbuf_reset(&done);
	}
	pthread_mutex_lock(&rl->mu);
	f->failed = broke || status != 0 || f->len != f->cap;
	f->done = lacre_dbuf_steal(&done, &f->done_len);
	f->live = 0;
	f->kfd = -1;
	f->at = now_s();                 /* held 10 minutes from its end */
	if (f->drop && f->refs == 0)
		file_free(f);
	rl->feeders--;
	pthread_cond_broadcast(&rl->cv);
	pthread_mutex_unlock(&rl->mu);
	lacre_dbuf_free(&done);
	state_free(st);
	return NULL;
}

/* Stream st's WAV (total bytes announced): hold it as a file growing under
 * a feeder thread, and answer {"state":"stream","file":ID}.  st is
 * consumed, except on LACRE_E_TOO_LARGE (no free slot: nothing done). */
static int go_live(struct console_relay *rl, struct relay_state *st, size_t total,
		   struct lacre_dbuf *out, int *http_status)
{
	struct console_file *f = NULL;
	struct feeder *fa;
	struct json_w w;
	pthread_t th;
	pthread_attr_t at;
	char hx[65];
	uint8_t *data;
	time_t t = now_s();

	if ((data = malloc(total)) == NULL || (fa = malloc(sizeof(*fa))) == NULL) {
		free(data);
		state_free(st);
		return answer_error(out, http_status, 500, "out of memory");
	}
	pthread_mutex_lock(&rl->mu);
	reap(rl, t);
	for (size_t i = 0; i < CONSOLE_FILES_MAX && f == NULL; i++)
		if (rl->files[i].at == 0)
			f = &rl->files[i];
	if (f == NULL || rl->closing || RAND_bytes(f->id, sizeof(f->id)) != 1) {
		pthread_mutex_unlock(&rl->mu);
		free(data);
		free(fa);
		return LACRE_E_TOO_LARGE;
	}
	memcpy(data, st->file.p, st->file.len);
	f->data = data;
	f->len = st->file.len;
	f->cap = total;
	memcpy(f->sid, st->sid, sizeof(f->sid));
	snprintf(f->ctype, sizeof(f->ctype), "%s", st->ctype);
	snprintf(f->fname, sizeof(f->fname), "%s", st->fname);
	f->at = t;
	f->refs = 0;
	f->live = 1;
	f->kfd = st->fd;
	fa->rl = rl;
	fa->f = f;
	fa->st = st;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &at, feed, fa) != 0) {
		pthread_attr_destroy(&at);
		f->data = NULL;
		file_free(f);
		pthread_mutex_unlock(&rl->mu);
		OPENSSL_cleanse(data, total);
		free(data);
		free(fa);
		state_free(st);
		return answer_error(out, http_status, 500, "cannot start the file's relay");
	}
	pthread_attr_destroy(&at);
	rl->feeders++;
	lacre_hex(f->id, sizeof(f->id), hx);
	pthread_mutex_unlock(&rl->mu);
	lacre_dbuf_reset(out);
	json_init(&w, out);
	json_obj_begin(&w);
	json_kv_str(&w, "state", "stream");
	json_kv_str(&w, "file", hx);
	json_obj_end(&w);
	*http_status = 200;
	return json_finish(&w);
}

/* Read the keeper's frames for st until it asks for a signature (park)
 * or exits (the final answer).  st is consumed. */
static int pump(struct console_relay *rl, struct relay_state *st, struct lacre_dbuf *out,
		int *http_status)
{
	uint8_t t, *b = malloc(KEEPER_FRAME_MAX);
	size_t n;
	int r;

	if (b == NULL) {
		state_free(st);
		return answer_error(out, http_status, 500, "out of memory");
	}
	for (;;) {
		r = keeper_frame_read(st->fd, CONSOLE_KEEPER_TIMEOUT_MS, &t, b, KEEPER_FRAME_MAX, &n);
		if (r != LACRE_OK) {
			char m[160];
			snprintf(m, sizeof(m), "the keeper's answer ended early (%s)", lacre_strerror(r));
			r = answer_error(out, http_status, 502, m);
			break;
		}
		if (t == KEEPER_F_FILE && st->file.len == 0)
			console_timing("keeper-file-first-in");
		if (t == KEEPER_F_STDOUT || t == KEEPER_F_STDERR || t == KEEPER_F_FILE) {
			struct lacre_dbuf *d = t == KEEPER_F_STDOUT ? &st->out :
					       t == KEEPER_F_STDERR ? &st->err : &st->file;
			size_t total;
			if (lacre_dbuf_add(d, b, n) != LACRE_OK) {
				r = answer_error(out, http_status, 502,
						 "the keeper's answer is larger than the console holds");
				break;
			}
			/* a WAV whose header is in: stream it from here on */
			if (t == KEEPER_F_FILE && !st->no_stream && !strcmp(st->ctype, "audio/wav") &&
			    (total = wav_total(st->file.p, st->file.len)) != 0) {
				r = go_live(rl, st, total, out, http_status);
				if (r != LACRE_E_TOO_LARGE) {
					st = NULL;          /* the feeder has it */
					break;
				}
				st->no_stream = 1;          /* no free slot: held whole */
			}
		} else if (t == KEEPER_F_SIGN) {
			console_timing("keeper-sign-in");
			r = park(rl, st, b, n, out, http_status);
			st = NULL;
			break;
		} else if (t == KEEPER_F_EXIT && n == 1) {
			char hx[65] = "";
			int have_file = st->file.len > 0 && b[0] == 0;

			if (have_file && hold_file(rl, st, hx) != LACRE_OK) {
				r = answer_error(out, http_status, 503,
						 "the console holds too many files; download or wait");
				break;
			}
			*http_status = 200;
			r = done_json(out, b[0], st, have_file ? hx : NULL);
			break;
		} else {
			r = answer_error(out, http_status, 502, "the keeper sent an unexpected frame");
			break;
		}
	}
	OPENSSL_cleanse(b, KEEPER_FRAME_MAX);
	free(b);
	state_free(st);
	return r;
}

/* The Content-Type and download name of command's output file. */
static void file_kind(const char *cmd, char *ctype, size_t cl, char *fname, size_t fl)
{
	if (!strcmp(cmd, "audio")) {
		snprintf(ctype, cl, "audio/wav");
		snprintf(fname, fl, "call.wav");
	} else if (!strcmp(cmd, "pcap")) {
		snprintf(ctype, cl, "application/vnd.tcpdump.pcap");
		snprintf(fname, fl, "content.pcap");
	} else if (!strcmp(cmd, "export")) {
		snprintf(ctype, cl, "application/octet-stream");
		snprintf(fname, fl, "package.age");
	} else {
		snprintf(ctype, cl, "application/octet-stream");
		snprintf(fname, fl, "output.bin");
	}
}

int console_relay_run(struct console_relay *rl, const struct console_session_info *si,
		      const uint8_t *body, size_t n, struct lacre_dbuf *out, int *http_status)
{
	struct keeper_request rq;
	struct relay_state *st;
	struct sockaddr_un a;
	uint8_t hdr[4];
	int r;

	if (n == 0 || n > KEEPER_REQUEST_MAX)
		return answer_error(out, http_status, 413, "the request is empty or over 64 KiB");
	if ((r = keeper_request_parse(body, n, &rq)) != LACRE_OK)
		return answer_error(out, http_status, 400, r == LACRE_E_INCOMPLETE ?
				    "unsigned request (no sig line)" :
				    "malformed keeper request (docs/FORMATS.md §11)");
	if (strcmp(rq.user, si->user) != 0) {
		keeper_request_free(&rq);
		return answer_error(out, http_status, 403,
				    "the request names another user than the session's");
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		keeper_request_free(&rq);
		return answer_error(out, http_status, 500, "out of memory");
	}
	file_kind(rq.argv[0], st->ctype, sizeof(st->ctype), st->fname, sizeof(st->fname));
	keeper_request_free(&rq);
	memcpy(st->sid, si->id, sizeof(st->sid));
	lacre_dbuf_init(&st->out, CONSOLE_OUT_MAX);
	lacre_dbuf_set_secret(&st->out);
	lacre_dbuf_init(&st->err, ERR_MAX);
	lacre_dbuf_init(&st->file, CONSOLE_FILE_MAX);
	lacre_dbuf_set_secret(&st->file);
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, rl->sock, strlen(rl->sock) + 1);
	hdr[0] = (uint8_t)(n >> 24);
	hdr[1] = (uint8_t)(n >> 16);
	hdr[2] = (uint8_t)(n >> 8);
	hdr[3] = (uint8_t)n;
	if ((st->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(st->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		state_free(st);
		return answer_error(out, http_status, 503,
				    "cannot reach the keeper (is 'lacre keeper' running?)");
	}
	if (keeper_write_full(st->fd, hdr, 4) != LACRE_OK ||
	    keeper_write_full(st->fd, body, n) != LACRE_OK) {
		state_free(st);
		return answer_error(out, http_status, 502, "cannot send the request to the keeper");
	}
	console_timing("keeper-request-sent");
	return pump(rl, st, out, http_status);
}

int console_relay_sign(struct console_relay *rl, const struct console_session_info *si,
		       const uint8_t *body, size_t n, struct lacre_dbuf *out, int *http_status)
{
	struct relay_state *st = NULL;
	uint8_t id[CONSOLE_TOKEN_LEN], sig[64];
	size_t sl = 0;

	if (console_sign_parse(body, n, id, sig, &sl) != LACRE_OK)
		return answer_error(out, http_status, 400, "malformed sign request");
	pthread_mutex_lock(&rl->mu);
	reap(rl, now_s());
	for (size_t i = 0; i < CONSOLE_PENDING_MAX; i++)
		if (rl->parked[i] && !CRYPTO_memcmp(rl->parked[i]->id, id, sizeof(id)) &&
		    !CRYPTO_memcmp(rl->parked[i]->sid, si->id, CONSOLE_TOKEN_LEN)) {
			st = rl->parked[i];
			rl->parked[i] = NULL;
		}
	pthread_mutex_unlock(&rl->mu);
	if (st == NULL)
		return answer_error(out, http_status, 404,
				    "no request waits for this signature (it timed out after 120 s?)");
	if (keeper_frame_write(st->fd, KEEPER_F_SIGNATURE, sig, sl) != LACRE_OK) {
		state_free(st);
		return answer_error(out, http_status, 502, "cannot answer the keeper");
	}
	console_timing("keeper-signature-sent");
	return pump(rl, st, out, http_status);
}

/* The held file hexid of session si (not dropped), or NULL (caller holds
 * mu). */
static struct console_file *file_find(struct console_relay *rl,
				      const struct console_session_info *si, const char *hexid,
				      size_t hexlen)
{
	uint8_t id[CONSOLE_TOKEN_LEN];

	if (lacre_unhex(hexid, hexlen, id, sizeof(id)) != LACRE_OK)
		return NULL;
	for (size_t i = 0; i < CONSOLE_FILES_MAX; i++) {
		struct console_file *f = &rl->files[i];
		if (f->at && !f->drop && !CRYPTO_memcmp(f->id, id, sizeof(id)) &&
		    !CRYPTO_memcmp(f->sid, si->id, CONSOLE_TOKEN_LEN))
			return f;
	}
	return NULL;
}

int console_relay_file_get(struct console_relay *rl, const struct console_session_info *si,
			   const char *hexid, struct console_file **fp, const uint8_t **data,
			   size_t *len, const char **ctype, const char **fname)
{
	struct console_file *f;
	int r = LACRE_E_NOT_FOUND;

	pthread_mutex_lock(&rl->mu);
	reap(rl, now_s());
	/* a streamed file whose command failed is no file */
	if ((f = file_find(rl, si, hexid, strlen(hexid))) != NULL && !f->failed) {
		f->refs++;
		*fp = f;
		*data = f->data;
		*len = f->cap > f->len ? f->cap : f->len;
		*ctype = f->ctype;
		*fname = f->fname;
		r = LACRE_OK;
	}
	pthread_mutex_unlock(&rl->mu);
	return r;
}

void console_relay_file_put(struct console_relay *rl, struct console_file *f)
{
	pthread_mutex_lock(&rl->mu);
	if (f->refs > 0)
		f->refs--;
	if (f->drop && f->refs == 0 && !f->live)
		file_free(f);
	pthread_mutex_unlock(&rl->mu);
}

/* The bytes of f that may be sent (caller holds mu): a streamed file's
 * last byte waits for its command's exit status 0, so a download that
 * completes is the whole file of a command that succeeded. */
static size_t sendable(const struct console_file *f)
{
	if (f->failed)
		return 0;
	if (f->live && f->cap > 0 && f->len >= f->cap)
		return f->cap - 1;
	return f->len;
}

int console_relay_file_send(struct console_relay *rl, struct console_file *f, size_t off,
			    size_t n, int (*wr)(void *arg, const void *p, size_t n), void *arg)
{
	while (n > 0) {
		size_t k = 0;
		pthread_mutex_lock(&rl->mu);
		while (f->live && !f->drop && !rl->closing && sendable(f) <= off)
			pthread_cond_wait(&rl->cv, &rl->mu);
		if (!f->failed && !f->drop && sendable(f) > off)
			k = sendable(f) - off < n ? sendable(f) - off : n;
		pthread_mutex_unlock(&rl->mu);
		if (k == 0)
			return LACRE_E_TRUNCATED;   /* the command failed: cut short */
		/* marked before the write: a write of many bytes returns only
		 * when the client has taken most of them */
		if (off <= 44 && off + k > 44)
			console_timing("file-past-44-write");
		if (wr(arg, f->data + off, k) != LACRE_OK)
			return LACRE_E_NETWORK;
		off += k;
		n -= k;
	}
	return LACRE_OK;
}

int console_relay_file_done(struct console_relay *rl, const struct console_session_info *si,
			    const char *path, struct lacre_dbuf *out, int *http_status)
{
	const char *sl = strchr(path, '/');
	struct console_file *f;
	int r;

	pthread_mutex_lock(&rl->mu);
	reap(rl, now_s());
	f = sl && !strcmp(sl, "/done") ? file_find(rl, si, path, (size_t)(sl - path)) : NULL;
	if (f == NULL) {
		pthread_mutex_unlock(&rl->mu);
		return answer_error(out, http_status, 404, "no such file (files are held 10 minutes)");
	}
	f->refs++;
	while (f->live && !f->drop && !rl->closing)
		pthread_cond_wait(&rl->cv, &rl->mu);
	if (f->done == NULL || f->drop) {
		r = answer_error(out, http_status, 404, f->drop ? "the session ended" :
				 "the file was held whole: its answer was the done state");
	} else {
		lacre_dbuf_reset(out);
		*http_status = 200;
		r = lacre_dbuf_add(out, f->done, f->done_len);
	}
	f->refs--;
	if (f->drop && f->refs == 0 && !f->live)
		file_free(f);
	pthread_mutex_unlock(&rl->mu);
	return r;
}
