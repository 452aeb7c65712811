// SPDX-License-Identifier: MIT
/*
 * uebpf load [--registry NAME] CMD ARGS...: run a libbpf-based loader with
 * libuebpf-shim.so preloaded and the registry in UEBPF_REGISTRY, so that its
 * bpf() and uprobe and syscall tracepoint perf_event_open calls go to uebpf and what it attaches
 * goes into the registry, for the agents of `uebpf start` and `uebpf
 * attach`. The loader becomes this process (exec): it goes on reading its
 * maps and ring buffers as with the kernel, and its exit status is ours.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "preload.h"

static const char load_help[] =
	"Usage: uebpf load [--registry NAME] CMD [ARGS...]\n"
	"\n"
	"Run a libbpf-based loader with its bpf() calls answered by uebpf: maps,\n"
	"programs, uprobe and syscall tracepoint attachments go into the registry\n"
	"NAME (a name, or a directory path; default $UEBPF_REGISTRY, else\n"
	"'default'), where `uebpf start` and `uebpf attach` find them. The loader\n"
	"keeps its maps and ring buffers as with the kernel; an attachment lasts\n"
	"while the loader holds it.\n";

int cmd_load(int argc, char **argv)
{
	static const struct option opts[] = {
		{"registry", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *name = NULL;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			name = optarg;
			break;
		case 'h':
			fputs(load_help, stdout);
			return CLI_OK;
		default:
			return cli_bad_option("load", opt, argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error("load", "no loader command given");
	return cli_exec_preloaded("load", name, true, "libuebpf-shim.so", argv + optind);
}
