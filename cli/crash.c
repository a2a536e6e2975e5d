/*
 * crash.c - what muster says when it faults. LMDB keeps no checksums and
 * trusts the pages it reads: a page header damaged on disk can send it
 * outside the map, a SIGSEGV or SIGBUS inside mdb_*() that no check of
 * ours runs before. The reads check what LMDB hands back (store_keys.h) and
 * `muster check` walks the store in a child process (cmd_check.c); for what
 * still faults, in the daemon as in any command, this handler prints what
 * to do instead of a bare "Segmentation fault", and exits with status 1.
 *
 * Sanitizer builds keep their own handlers, whose reports say more.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define NO_CRASH_HANDLER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define NO_CRASH_HANDLER 1
#endif
#endif

#ifndef NO_CRASH_HANDLER
/* Written once, before any fault can happen: the handler only write()s. */
static char message[1200];
static size_t message_len;
static char alt_stack[64 * 1024];

static void
on_fault(int sig)
{
	ssize_t w = write(STDERR_FILENO, message, message_len);

	(void)w;
	(void)sig;
	_exit(EXIT_FAILURE); /* a signal handler cannot return to main() */
}
#endif

void
mu_cli_crash_handler(const char *home_dir)
{
#ifndef NO_CRASH_HANDLER
	struct sigaction sa;
	stack_t ss;
	int n;

	n = snprintf(message, sizeof(message),
	             "muster: crashed reading the store of %s, which is likely "
	             "damaged: run `muster check`, then `muster restore FILE` "
	             "with a backup\n",
	             home_dir);
	if (n < 0 || (size_t)n >= sizeof(message))
		n = snprintf(message, sizeof(message),
		             "muster: crashed reading the store, which is likely "
		             "damaged: run `muster check`, then `muster restore FILE` "
		             "with a backup\n");
	message_len = n > 0 ? (size_t)n : 0;
	/* A fault from a runaway recursion has no stack left to run on. */
	ss.ss_sp = alt_stack;
	ss.ss_size = sizeof(alt_stack);
	ss.ss_flags = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fault;
	sa.sa_flags = sigaltstack(&ss, NULL) == 0 ? SA_ONSTACK : 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
#else
	(void)home_dir;
#endif
}

void
mu_cli_crash_default(void)
{
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
}
