/*
 * cmd_proof.c - `lacre proof`: inclusion receipts (C2SP tlog-proof) made
 * from the tiles on a backend, and their offline verification.  The lead's
 * record-level wrapper (commitment from a sealed record) builds on these.
 *
 *   lacre proof inclusion --store SPEC --vkey LOGVKEY --index I
 *                         [--checkpoint FILE]
 *   lacre proof verify (--vkey LOGVKEY [--witness-vkey VKEY]... [--quorum K] |
 *                       --policy FILE)
 *                      (--entry-hex HEX | --leaf-hex HEX) [--segment-proof SP] FILE
 *
 * With --segment-proof (a record of a v2 segment, one ledger leaf per
 * segment), --entry-hex is the record's commitment: SP must take it to
 * the records root of the segment entry it carries, and FILE must prove
 * that entry's leaf.  A FILE that opens with the segment proof is a record
 * proof (docs/FORMATS.md §6.2, `lacre proof record` through the keeper):
 * both in one file, checked the same way.
 * inclusion uses the given checkpoint (or the store's, after verifying its
 * signature) and prints the receipt on stdout.  verify exits 0 when the
 * receipt proves the entry, 3 when it does not.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/err.h"
#include "lacre/hex.h"
#include "lacre/note.h"
#include "lacre/segment_proof.h"
#include "lacre/store.h"
#include "lacre/tlog.h"
#include "cli.h"

#define MAX_W 32

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lacre proof inclusion --store SPEC --vkey LOGVKEY --index I [--checkpoint FILE]\n"
		"       lacre proof verify (--vkey LOGVKEY [--witness-vkey VKEY]... [--quorum K] | --policy FILE)\n"
		"                          (--entry-hex HEX | --leaf-hex HEX) [--segment-proof SP] FILE\n"
		"       lacre proof record --site DIR --warrant W --record SEGMENT:INDEX [-o FILE]\n"
		"                          [--segment-proof SP]\n"
		"                          --justification TEXT [--user KEYFILE]\n"
		"\n"
		"Make or check a C2SP tlog-proof receipt for one ledger entry.  verify also reads\n"
		"a record proof (segment proof, then receipt, in one FILE: what proof record writes\n"
		"through the keeper) with --entry-hex of the record's commitment.\n");
}

/* Build a receipt from the tiles. */
static int do_inclusion(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "vkey", required_argument, NULL, 'v' },
		{ "index", required_argument, NULL, 'i' },
		{ "checkpoint", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct note_verifier v;
	struct lacre_store *st = NULL;
	struct tiles_reader *r = NULL;
	struct lacre_dbuf cp, out;
	struct checkpoint c;
	struct merkle_proof proof;
	const char *spec = NULL, *cpfile = NULL;
	char prefix[TLOG_PREFIX_MAX], name[600];
	unsigned long long index = 0;
	int opt, rc, status = EXIT_FAIL, have_v = 0, have_i = 0;

	lacre_dbuf_init(&cp, NOTE_MAX_SIZE);
	lacre_dbuf_init(&out, NOTE_MAX_SIZE + 8192);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': spec = optarg; break;
		case 'c': cpfile = optarg; break;
		case 'i': index = strtoull(optarg, NULL, 10); have_i = 1; break;
		case 'v':
			if (note_verifier_parse(optarg, strlen(optarg), &v) != LACRE_OK) {
				cli_err("--vkey '%s' is not a vkey", optarg);
				status = EXIT_USAGE;
				goto done;
			}
			have_v = 1;
			break;
		case 'h': usage(stdout); status = EXIT_OK; goto done;
		default: usage(stderr); status = EXIT_USAGE; goto done;
		}
	}
	if (!spec || !have_v || !have_i || optind != argc) {
		cli_err("inclusion needs --store, --vkey and --index");
		status = EXIT_USAGE;
		goto done;
	}
	if ((rc = lacre_store_open(spec, &st)) != LACRE_OK) {
		status = cli_fail(rc, spec);
		goto done;
	}
	tlog_prefix(v.name, prefix, sizeof(prefix));
	snprintf(name, sizeof(name), "%scheckpoint", prefix);
	rc = cpfile ? note_read_file(cpfile, NOTE_MAX_SIZE, &cp)
		    : lacre_store_get(st, name, 0, SIZE_MAX, &cp);
	if (rc != LACRE_OK) {
		status = cli_fail(rc, cpfile ? cpfile : "checkpoint on the store");
		goto done;
	}
	if ((rc = checkpoint_open(cp.p, cp.len, &v, NULL, 0, &c, NULL)) != LACRE_OK) {
		status = cli_fail(rc, "checkpoint does not verify with the log key");
		goto done;
	}
	if (index >= c.size) {
		cli_err("index %llu is not in the checkpoint (size %llu)", index,
			(unsigned long long)c.size);
		goto done;
	}
	if ((rc = tiles_reader_new(st, prefix, c.size, &r)) != LACRE_OK ||
	    (rc = merkle_prove_inclusion(index, c.size, tiles_reader_node, r, &proof)) != LACRE_OK) {
		status = cli_fail(rc, "proof from the tiles");
		goto done;
	}
	if ((rc = receipt_format(index, &proof, cp.p, cp.len, &out)) != LACRE_OK) {
		status = cli_fail(rc, "receipt");
		goto done;
	}
	fwrite(out.p, 1, out.len, stdout);
	status = EXIT_OK;
done:
	tiles_reader_free(r);
	lacre_store_close(st);
	lacre_dbuf_free(&cp);
	lacre_dbuf_free(&out);
	return status;
}

/* Check that segment proof sp takes a record's 32-byte commitment to its
 * segment's records root, and set leaf to the leaf hash of the segment
 * entry the receipt must then prove.  Prints the error; returns EXIT_OK or
 * EXIT_VERIFY. */
static int segment_leaf(const struct segment_proof *sp, const uint8_t *commitment,
			uint8_t leaf[MERKLE_HASH_LEN])
{
	if (segment_proof_verify(sp, commitment) != LACRE_OK) {
		cli_err("segment proof does not take the commitment to the records root of %s",
			sp->seg.name);
		return EXIT_VERIFY;
	}
	merkle_leaf_hash(sp->entry, sp->entry_len, leaf);
	return EXIT_OK;
}

/* Verify a receipt offline. */
static int do_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vkey", required_argument, NULL, 'v' },
		{ "witness-vkey", required_argument, NULL, 'W' },
		{ "quorum", required_argument, NULL, 'q' },
		{ "entry-hex", required_argument, NULL, 'e' },
		{ "leaf-hex", required_argument, NULL, 'l' },
		{ "segment-proof", required_argument, NULL, 'S' },
		{ "policy", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static uint8_t entry[TLOG_ENTRY_MAX];
	static struct segment_proof sp;
	struct note_verifier v, wv[MAX_W];
	struct lacre_dbuf in;
	struct receipt r;
	struct checkpoint c;
	uint8_t leaf[MERKLE_HASH_LEN];
	size_t nw = 0;
	long quorum = 0, n = 0;
	int opt, rc, status = EXIT_FAIL, have_v = 0, have_leaf = 0;
	size_t rof;
	const char *polfile = NULL, *spfile = NULL;
	struct policy *pol = NULL;

	lacre_dbuf_init(&in, SEGMENT_PROOF_TEXT_MAX + NOTE_MAX_SIZE + 8192);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'v':
			if (note_verifier_parse(optarg, strlen(optarg), &v) != LACRE_OK) {
				cli_err("--vkey '%s' is not a vkey", optarg);
				status = EXIT_USAGE;
				goto done;
			}
			have_v = 1;
			break;
		case 'W':
			if (nw == MAX_W || note_verifier_parse(optarg, strlen(optarg), &wv[nw]) != LACRE_OK) {
				cli_err("--witness-vkey '%s' is not a vkey", optarg);
				status = EXIT_USAGE;
				goto done;
			}
			nw++;
			break;
		case 'q': quorum = strtol(optarg, NULL, 10); break;
		case 'p': polfile = optarg; break;
		case 'e':
			if ((n = lacre_unhex_text(optarg, entry, sizeof(entry))) <= 0) {
				cli_err("--entry-hex is not hex");
				status = EXIT_USAGE;
				goto done;
			}
			merkle_leaf_hash(entry, (size_t)n, leaf);
			have_leaf = 1;
			break;
		case 'S': spfile = optarg; break;
		case 'l':
			if (lacre_unhex_text(optarg, leaf, sizeof(leaf)) != MERKLE_HASH_LEN) {
				cli_err("--leaf-hex wants 32 bytes of hex");
				status = EXIT_USAGE;
				goto done;
			}
			have_leaf = 1;
			break;
		case 'h': usage(stdout); status = EXIT_OK; goto done;
		default: usage(stderr); status = EXIT_USAGE; goto done;
		}
	}
	if ((!have_v && !polfile) || !have_leaf || optind + 1 != argc || quorum < 0 || (size_t)quorum > nw) {
		cli_err("verify needs --vkey or --policy, an entry or leaf hash, a receipt FILE and a quorum <= witnesses");
		status = EXIT_USAGE;
		goto done;
	}
	if (spfile) {
		/* the record's commitment -> its segment's records root; the
		 * receipt then proves the segment entry's leaf */
		if (n != 32) {
			cli_err("--segment-proof needs --entry-hex of the record's 32-byte commitment");
			status = EXIT_USAGE;
			goto done;
		}
		if ((rc = note_read_file(spfile, SEGMENT_PROOF_TEXT_MAX, &in)) != LACRE_OK) {
			status = cli_fail(rc, spfile);
			goto done;
		}
		if (segment_proof_parse(in.p, in.len, &sp) != LACRE_OK) {
			cli_err("%s is not a lacre-segment-proof/v1 file", spfile);
			status = EXIT_VERIFY;
			goto done;
		}
		if (segment_leaf(&sp, entry, leaf) != EXIT_OK) {
			status = EXIT_VERIFY;
			goto done;
		}
		lacre_dbuf_reset(&in);
	}
	if ((rc = note_read_file(argv[optind], SEGMENT_PROOF_TEXT_MAX + NOTE_MAX_SIZE + 8192, &in)) != LACRE_OK) {
		status = cli_fail(rc, argv[optind]);
		goto done;
	}
	rof = 0;
	if (in.len > sizeof(SEGMENT_PROOF_MAGIC) &&
	    !memcmp(in.p, SEGMENT_PROOF_MAGIC "\n", sizeof(SEGMENT_PROOF_MAGIC))) {
		/* a record proof (FORMATS.md §6.2): the segment proof, then the
		 * receipt of its entry, in one file */
		size_t spl;
		if (spfile) {
			cli_err("%s holds its segment proof already: give it without --segment-proof",
				argv[optind]);
			status = EXIT_USAGE;
			goto done;
		}
		if (n != 32) {
			cli_err("a record proof needs --entry-hex of the record's 32-byte commitment");
			status = EXIT_USAGE;
			goto done;
		}
		if (segment_proof_split(in.p, in.len, &spl) != LACRE_OK ||
		    segment_proof_parse(in.p, spl, &sp) != LACRE_OK) {
			cli_err("%s is not a record proof (a lacre-segment-proof/v1, then a tlog-proof)",
				argv[optind]);
			status = EXIT_VERIFY;
			goto done;
		}
		if (segment_leaf(&sp, entry, leaf) != EXIT_OK) {
			status = EXIT_VERIFY;
			goto done;
		}
		spfile = argv[optind];
		rof = spl;
	}
	if ((rc = receipt_parse(in.p + rof, in.len - rof, &r)) != LACRE_OK) {
		status = cli_fail(rc, "receipt");
		goto done;
	}
	if (polfile && cli_load_policy(polfile, &pol) != LACRE_OK)
		goto done;
	rc = pol ? receipt_verify_policy(&r, leaf, pol, &c)
		 : receipt_verify(&r, leaf, &v, wv, nw, (size_t)quorum, &c);
	if (rc != LACRE_OK) {
		cli_err("receipt does not prove the entry: %s", lacre_strerror(rc));
		status = EXIT_VERIFY;
		goto done;
	}
	if (spfile)
		printf("ok: record %llu of %llu of %s, entry %llu, is in %s at size %llu\n",
		       (unsigned long long)sp.index, (unsigned long long)sp.n, sp.seg.name,
		       (unsigned long long)r.index, c.origin, (unsigned long long)c.size);
	else
		printf("ok: entry %llu is in %s at size %llu\n", (unsigned long long)r.index, c.origin,
		       (unsigned long long)c.size);
	status = EXIT_OK;
done:
	lacre_dbuf_free(&in);
	free(pol);
	return status;
}

/* `lacre proof SUBCOMMAND`. */
int cmd_proof(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "inclusion"))
		return do_inclusion(argc - 1, argv + 1);
	if (!strcmp(argv[1], "verify"))
		return do_verify(argc - 1, argv + 1);
	if (!strcmp(argv[1], "record")) {
		/* main sends it to the keeper domain (cmd/lacre-keeper/cmd_proof_record.c) */
		cli_err("proof record reads a sealed record: it runs in the keeper domain "
			"(through the keeper, or 'lacre-keeper run -- proof record ...')");
		return EXIT_FAIL;
	}
	cli_err("no proof subcommand '%s'; run 'lacre proof --help'", argv[1]);
	return EXIT_USAGE;
}
