/*
 * cmd_pending.c - subcommands whose module has not landed yet answer with a
 * clear error instead of failing to link.  Each is a weak symbol: the real
 * cmd_<name>.c replaces it, and this file shrinks as they land.
 */
#include "cli.h"

#define PENDING(fn, name) \
	__attribute__((weak)) int fn(int argc, char **argv) \
	{ (void)argc; (void)argv; cli_err("'%s' is not available in this build", name); return EXIT_FAIL; }

PENDING(cmd_decode, "decode")
PENDING(cmd_ingest, "ingest")
PENDING(cmd_init, "init")
PENDING(cmd_warrant, "warrant")
PENDING(cmd_records, "records")
PENDING(cmd_quarantine, "quarantine")
PENDING(cmd_log, "log")
PENDING(cmd_proof, "proof")
PENDING(cmd_witness, "witness")
PENDING(cmd_audit, "audit")
