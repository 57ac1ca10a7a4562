/*
 * cmd_pcap.c - `lacre pcap --warrant W [--cin N] -o FILE.pcap`: a warrant's
 * content packets as a classic pcap file that Wireshark and tshark open
 * (docs/cmd-pcap.md).  Thin: lib/access/pcap.c.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/calls.h"
#include "lacre/err.h"
#include "lacre/pcap.h"
#include "cli.h"
#include "cli_media.h"

/* Usage text. */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: lacre pcap --warrant W [--cin N] -o FILE.pcap --justification TEXT\n"
		"                  [--user KEYFILE] [--site DIR] [--json]\n"
		"                  [--passphrase-file F | --passphrase-fd N]\n"
		"Writes warrant W's CC packets (IPCC IP packets, IPMMCC RTP) to a pcap file\n"
		"(link type RAW: IPv4/IPv6 packets), timestamps from the PDUs, in sealed order.\n"
		"--cin N keeps one call or session.\n");
}

/* What pcap's own options fill. */
struct pcap_args {
	const char *warrant, *path;
	uint32_t cin;
	int has_cin;
};

/* cli_media_own_fn of pcap: --warrant W, --cin N, -o/--output FILE. */
static int own(void *arg, int c, const char *value)
{
	struct pcap_args *a = arg;

	switch (c) {
	case 'w': a->warrant = value; return 1;
	case 'o': a->path = value; return 1;
	case 'c':
		if (cli_media_cin(value, &a->cin) != EXIT_OK)
			return -EXIT_USAGE;
		a->has_cin = 1;
		return 1;
	default:
		return 0;
	}
}

/* `lacre pcap`. */
int cmd_pcap(int argc, char **argv)
{
	static const struct option lo[] = {
		CLI_MEDIA_LONGOPTS,
		{ "warrant", required_argument, 0, 'w' },
		{ "cin", required_argument, 0, 'c' },
		{ "output", required_argument, 0, 'o' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	struct cli_media_opts o;
	struct cli_media m;
	struct calls_entry *v = NULL;
	struct pcap_report rep = { 0 };
	struct pcap_args a = { NULL, NULL, 0, 0 };
	const char *warrant, *path;
	char what[512];
	uint32_t cin;
	size_t n = 0;
	int r, ex, has_cin;

	if ((ex = cli_media_getopt(argc, argv, "o:", lo, usage, &o, own, &a)) != EXIT_OK)
		return ex == CLI_MEDIA_HELP ? EXIT_OK : ex;
	warrant = a.warrant;
	path = a.path;
	cin = a.cin;
	has_cin = a.has_cin;
	if (optind < argc || !warrant || !path) {
		cli_err("pcap needs --warrant W and -o FILE.pcap");
		return EXIT_USAGE;
	}
	if (has_cin)
		snprintf(what, sizeof(what), "cc packets of cin %" PRIu32 " to %s", cin, cli_output_label(path));
	else
		snprintf(what, sizeof(what), "cc packets to %s", cli_output_label(path));
	ex = cli_media_open(&o, "pcap", warrant, what, 0, &m);
	if (ex > 0)
		return ex;
	if ((r = calls_list(m.ix, warrant, &v, &n)) != LACRE_OK) {
		cli_media_close(&m);
		return cli_fail(r, "cannot correlate the calls");
	}
	r = pcap_write(m.ix, m.st, &m.id, warrant, has_cin, cin, v, n, path, cli_media_problem, NULL,
		       &rep);
	cli_media_close(&m);
	free(v);
	if (r == LACRE_E_EXISTS) {
		cli_err("%s exists: choose another -o path", path);
		return EXIT_FAIL;
	}
	if (r != LACRE_OK)
		return cli_fail(r, "cannot write the pcap file");
	if (o.json)
		printf("{\"path\":\"%s\",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"synthetic\":%"
		       PRIu64 ",\"skipped\":%" PRIu64 "}\n", cli_output_name(path), rep.packets, rep.bytes, rep.synthetic,
		       rep.skipped);
	fprintf(stderr, "lacre: %s: %" PRIu64 " packets (%" PRIu64 " with a synthetic IP/UDP header, "
		"%" PRIu64 " CC records without an IP packet left out)\n", cli_output_name(path), rep.packets,
		rep.synthetic, rep.skipped);
	return ex < 0 ? -ex : EXIT_OK;
}
