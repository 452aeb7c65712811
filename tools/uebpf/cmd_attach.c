// SPDX-License-Identifier: MIT
/*
 * uebpf attach / uebpf detach: bring the agent (libuebpf-agent.so) into a
 * process that is already running and start it on a registry, or stop it
 * there, through src/inject.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "inject/inject.h"
#include "preload.h"
#include "registry/registry.h"

static const char attach_usage[] =
	"Usage: uebpf attach PID [--registry NAME|DIR]\n"
	"\n"
	"Load the uebpf agent into the running process PID (with ptrace: its\n"
	"threads are stopped meanwhile) and start it on a registry: the probes\n"
	"that programs loaded into the registry attach are installed in PID and\n"
	"follow the registry from then on. Attaching again is harmless.\n"
	"\n"
	"  --registry R  the registry: a name under uebpf's state directory or a\n"
	"                path (default: $UEBPF_REGISTRY, else 'default')\n"
	"\n"
	"The agent is $UEBPF_AGENT if set, else libuebpf-agent.so of this uebpf's\n"
	"build or installation.\n"
	"Only root may attach to another user's process.\n";

static const char detach_usage[] =
	"Usage: uebpf detach PID\n"
	"\n"
	"Remove every probe the uebpf agent installed in the running process PID\n"
	"(their functions get their original bytes back) and stop the agent\n"
	"following its registry. The agent stays loaded; 'uebpf attach' starts\n"
	"it again.\n";

/* How often to ask an agent that answers -EBUSY (its watcher thread was stopped mid-work). */
#define AGENT_BUSY_TRIES 20

/* Options, then exactly one PID; registry may be NULL when not accepted. */
static int parse_args(const char *cmd, int argc, char **argv, pid_t *pid, const char **registry,
		      bool *help)
{
	static const struct option opts[] = {
		{"registry", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	char *end;
	long v;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (!registry)
				return cli_usage_error(cmd, "unknown option '--registry'");
			if (!*optarg)
				return cli_usage_error(cmd, "--registry needs a name or a path");
			*registry = optarg;
			break;
		case 'h':
			*help = true;
			return CLI_OK;
		default:
			return cli_bad_option(cmd, opt, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cmd, "expected one PID, got %d arguments", argc - optind);
	errno = 0;
	v = strtol(argv[optind], &end, 10);
	if (errno || end == argv[optind] || *end || v <= 0 || v > INT_MAX)
		return cli_usage_error(cmd, "'%s' is not a process id", argv[optind]);
	*pid = (pid_t)v;
	/* before anything else is looked for: the first thing to say about a wrong PID */
	if (kill(*pid, 0) && errno == ESRCH)
		return cli_error(cmd, "no process %d", (int)*pid);
	return CLI_OK;
}

/* The agent's path into agent (PATH_MAX bytes): a regular file. */
static int find_agent(const char *cmd, char *agent)
{
	char err[1024];
	struct stat st;

	if (cli_lib_path("libuebpf-agent.so", agent, PATH_MAX, err, sizeof(err)))
		return cli_error(cmd, "%s", err);
	if (stat(agent, &st) || !S_ISREG(st.st_mode))
		return cli_error(cmd,
				 "no agent at %s (build libuebpf-agent.so, or set "
				 "UEBPF_AGENT to its path)",
				 agent);
	return CLI_OK;
}

/* Call fn(arg) of the agent in pid, asking again while it answers -EBUSY. */
static int call_agent(const char *cmd, pid_t pid, const char *agent, const char *fn,
		      const char *arg, int *rv)
{
	struct timespec pause = {0, 50 * 1000 * 1000};
	char err[1024];
	int ret;

	for (int i = 0; i < AGENT_BUSY_TRIES; i++) {
		ret = inject_call(pid, agent, fn, arg, rv, err, sizeof(err));
		if (ret || *rv != -EBUSY)
			break;
		nanosleep(&pause, NULL);
	}
	if (ret == -ENOENT && strstr(err, "is not loaded in process"))
		return cli_error(cmd,
				 "the uebpf agent is not loaded in process %d (nothing was "
				 "attached there)",
				 (int)pid);
	if (ret)
		return cli_error(cmd, "%s", err);
	return CLI_OK;
}

int cmd_attach(int argc, char **argv)
{
	char agent[PATH_MAX], dir[REG_PATH_MAX], abs[PATH_MAX], err[1024];
	const char *registry = NULL;
	bool help = false;
	uint64_t handle;
	pid_t pid;
	int ret, rv;

	ret = parse_args("attach", argc, argv, &pid, &registry, &help);
	if (ret || help) {
		if (help)
			fputs(attach_usage, stdout);
		return ret;
	}
	if (find_agent("attach", agent))
		return CLI_FAIL;
	if (cli_use_registry(registry, false, dir, sizeof(dir), err, sizeof(err)))
		return cli_error("attach", "%s", err);
	/* the target resolves a relative path from its own directory: give it an absolute one */
	if (!realpath(dir, abs))
		return cli_error("attach", "%s: %s", dir, strerror(errno));
	ret = inject_load(pid, agent, &handle, err, sizeof(err));
	if (ret)
		return cli_error("attach", "%s", err);
	printf("loaded %s into process %d\n", agent, (int)pid);
	if (call_agent("attach", pid, agent, "uebpf_agent_start", abs, &rv))
		return CLI_FAIL;
	printf("uebpf_agent_start(\"%s\") in process %d returned %d\n", abs, (int)pid, rv);
	if (rv)
		return cli_error("attach",
				 "the agent in process %d did not start: %s (its "
				 "stderr, lines starting 'uebpf-agent:', says more)",
				 (int)pid, strerror(rv < 0 ? -rv : rv));
	return CLI_OK;
}

int cmd_detach(int argc, char **argv)
{
	char agent[PATH_MAX];
	bool help = false;
	pid_t pid;
	int ret, rv;

	ret = parse_args("detach", argc, argv, &pid, NULL, &help);
	if (ret || help) {
		if (help)
			fputs(detach_usage, stdout);
		return ret;
	}
	if (find_agent("detach", agent))
		return CLI_FAIL;
	if (call_agent("detach", pid, agent, "uebpf_agent_stop", NULL, &rv))
		return CLI_FAIL;
	printf("uebpf_agent_stop() in process %d returned %d\n", (int)pid, rv);
	if (rv)
		return cli_error("detach", "the agent in process %d did not stop: %s", (int)pid,
				 strerror(rv < 0 ? -rv : rv));
	return CLI_OK;
}
