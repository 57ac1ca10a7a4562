/*
 * cmd_audio.c - `lacre audio CALL -o FILE.wav`: a call's G.711 audio as a
 * stereo WAV, left = from the target, right = to the target; gaps become
 * silence and are reported (docs/cmd-audio.md).  Thin: lib/access/audio.c.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/audio.h"
#include "lacre/calls.h"
#include "lacre/err.h"
#include "lacre/json.h"
#include "cli.h"
#include "cli_media.h"
#include "keeper/timing.h"

/* Usage text. */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: lacre audio CALL -o FILE.wav --justification TEXT [--user KEYFILE] [--site DIR]\n"
		"                   [--json] [--passphrase-file F | --passphrase-fd N]\n"
		"Writes call CALL (an id of 'lacre calls', e.g. W-000001-164085088) as a stereo\n"
		"16-bit 8 kHz WAV: left channel = audio from the target, right = audio to the\n"
		"target.  RTP is ordered by sequence number; missing packets become silence and\n"
		"are listed on stderr (and in the --json summary on stdout).\n");
}

/* Name of a side. */
static const char *side_name(int side)
{
	return side == CALLS_FROM_TARGET ? "from-target" : "to-target";
}

/* The --json summary. */
static void print_json(const struct calls_entry *c, const char *path, const struct audio_report *a)
{
	struct lacre_dbuf d;
	struct json_w w;

	lacre_dbuf_init(&d, 1 << 20);
	json_init(&w, &d);
	json_obj_begin(&w);
	json_kv_str(&w, "call", c->id);
	json_kv_str(&w, "path", cli_output_name(path));
	json_key(&w, "frames");
	json_uint(&w, a->frames);
	json_key(&w, "duration_ms");
	json_uint(&w, a->frames / 8);
	json_kv_str(&w, "left", "from-target");
	json_kv_str(&w, "right", "to-target");
	for (int s = 0; s < 2; s++) {
		json_key(&w, side_name(s));
		json_obj_begin(&w);
		json_key(&w, "packets");
		json_uint(&w, a->packets[s]);
		json_key(&w, "missing_packets");
		json_uint(&w, a->missing[s]);
		json_kv_str(&w, "codec", a->pt[s] == 0 ? "PCMU" : a->pt[s] == 8 ? "PCMA" : NULL);
		json_obj_end(&w);
	}
	json_key(&w, "gaps");
	json_arr_begin(&w);
	for (size_t i = 0; i < a->n_gaps; i++) {
		json_obj_begin(&w);
		json_kv_str(&w, "side", side_name(a->gaps[i].side));
		json_key(&w, "at_ms");
		json_uint(&w, a->gaps[i].at_sample / 8);
		json_key(&w, "packets");
		json_uint(&w, a->gaps[i].packets);
		json_key(&w, "silence_ms");
		json_uint(&w, a->gaps[i].samples / 8);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_key(&w, "gaps_total");
	json_uint(&w, a->gaps_total);
	json_key(&w, "duplicates");
	json_uint(&w, a->duplicates);
	json_key(&w, "other_ssrc");
	json_uint(&w, a->other_ssrc);
	json_key(&w, "unknown_side");
	json_uint(&w, a->unknown_side);
	json_key(&w, "not_g711");
	json_uint(&w, a->not_g711);
	json_key(&w, "first_audio_ms");
	json_uint(&w, (uint64_t)(a->first_audio_us / 1000));
	json_key(&w, "first_audio_us");
	json_uint(&w, (uint64_t)a->first_audio_us);
	json_key(&w, "elapsed_us");
	json_uint(&w, (uint64_t)a->elapsed_us);
	json_obj_end(&w);
	if (json_finish(&w) == LACRE_OK) {
		fwrite(d.p, 1, d.len, stdout);
		fputc('\n', stdout);
	}
	lacre_dbuf_free(&d);
}

/* cli_media_own_fn of audio: -o/--output FILE into *(const char **)arg. */
static int own(void *arg, int c, const char *value)
{
	if (c != 'o')
		return 0;
	*(const char **)arg = value;
	return 1;
}

/* `lacre audio`. */
int cmd_audio(int argc, char **argv)
{
	static const struct option lo[] = {
		CLI_MEDIA_LONGOPTS,
		{ "output", required_argument, 0, 'o' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	struct cli_media_opts o;
	struct cli_media m;
	struct calls_entry one, *call = NULL;
	struct audio_report *a = NULL;
	char warrant[WARRANT_ID_MAX], what[512];
	const char *id = NULL, *path = NULL;
	uint32_t cin;
	int r, ex;

	if ((ex = cli_media_getopt(argc, argv, "o:", lo, usage, &o, own, &path)) != EXIT_OK)
		return ex == CLI_MEDIA_HELP ? EXIT_OK : ex;
	if (optind + 1 != argc || !path) {
		cli_err("audio needs one CALL (see 'lacre calls') and -o FILE.wav");
		return EXIT_USAGE;
	}
	id = argv[optind];
	if (calls_parse_id(id, warrant, &cin) != LACRE_OK) {
		cli_err("'%s' is not a call id like W-000001-164085088 (see 'lacre calls')", id);
		return EXIT_USAGE;
	}
	snprintf(what, sizeof(what), "call %s to %s", id, cli_output_label(path));
	ex = cli_media_open(&o, "audio", warrant, what, 0, &m);
	if (ex > 0)
		return ex;
	/* only the call asked for, from its SIP IRIs: a warrant may hold many */
	r = calls_find(m.ix, warrant, id, &one);
	if (r == LACRE_E_NOT_FOUND) {
		cli_media_close(&m);
		cli_err("warrant %s has no call %s (see 'lacre calls --warrant %s')", warrant, id, warrant);
		return EXIT_FAIL;
	}
	if (r != LACRE_OK) {
		cli_media_close(&m);
		return cli_fail(r, "cannot find the call in the index");
	}
	call = &one;
	keeper_timing_mark("call-found");
	if ((a = malloc(sizeof(*a))) == NULL) {
		cli_media_close(&m);
		return cli_fail(LACRE_E_NOMEM, "audio");
	}
	r = audio_write(m.ix, m.st, &m.id, call, path, cli_media_problem, NULL, a);
	cli_media_close(&m);
	if (r == LACRE_E_EXISTS)
		cli_err("%s exists: choose another -o path", path);
	else if (r == LACRE_E_NOT_FOUND)
		cli_err("call %s has no G.711 RTP to write", id);
	else if (r == LACRE_E_DB)   /* e.g. a stored plan that does not match its rows */
		cli_err("the index failed while the audio was written: rebuild it with 'lacre reindex'");
	else if (r != LACRE_OK)
		cli_fail(r, "cannot write the audio");
	if (r == LACRE_OK) {
		for (size_t i = 0; i < a->n_gaps; i++)
			fprintf(stderr, "lacre: gap %s at %" PRIu64 ".%03" PRIu64 " s: %" PRIu64
				" packets missing, %" PRIu64 " ms of silence\n", side_name(a->gaps[i].side),
				a->gaps[i].at_sample / 8000, a->gaps[i].at_sample / 8 % 1000,
				a->gaps[i].packets, a->gaps[i].samples / 8);
		if (a->gaps_total > a->n_gaps)
			fprintf(stderr, "lacre: %" PRIu64 " gaps in all\n", a->gaps_total);
		fprintf(stderr, "lacre: %s: %" PRIu64 ".%03" PRIu64 " s, %" PRIu64 " packets from the "
			"target (left), %" PRIu64 " to the target (right), %" PRIu64 " gaps\n", cli_output_name(path),
			a->frames / 8000, a->frames / 8 % 1000, a->packets[0], a->packets[1], a->gaps_total);
		if (o.json)
			print_json(call, path, a);
	}
	free(a);
	if (r != LACRE_OK)
		return cli_exit_status(r);
	return ex < 0 ? -ex : EXIT_OK;
}
