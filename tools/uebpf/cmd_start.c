// SPDX-License-Identifier: MIT
/*
 * uebpf start [--registry NAME] [--engine E] CMD ARGS...: run a target with
 * libuebpf-agent.so preloaded, so that before main its constructor maps the
 * registry, compiles the attached programs and installs their hooks
 * (agent/agent.h). The target becomes this process (exec).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "preload.h"

static const char start_help[] =
	"Usage: uebpf start [--registry NAME] [--engine E] CMD [ARGS...]\n"
	"\n"
	"Run CMD with uebpf's agent preloaded: the programs that `uebpf load`\n"
	"attached in the registry NAME (default $UEBPF_REGISTRY, else 'default')\n"
	"run at its functions, on engine E (interp, jit or aot; jit by default).\n"
	"trace_printk output goes to the registry's trace file. Processes CMD\n"
	"starts inherit the agent.\n";

int cmd_start(int argc, char **argv)
{
	static const struct option opts[] = {
		{"registry", required_argument, NULL, 'r'},
		{"engine", required_argument, NULL, 'e'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *name = NULL;
	enum uebpf_engine engine;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			name = optarg;
			break;
		case 'e':
			if (cli_parse_engine(optarg, &engine))
				return cli_usage_error("start", "unknown engine '%s'", optarg);
			setenv("UEBPF_ENGINE", optarg, 1);
			break;
		case 'h':
			fputs(start_help, stdout);
			return CLI_OK;
		default:
			return cli_bad_option("start", opt, argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error("start", "no command given");
	return cli_exec_preloaded("start", name, false, "libuebpf-agent.so", argv + optind);
}
