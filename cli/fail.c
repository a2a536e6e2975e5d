/*
 * fail.c - the one-line error messages of the command line.
 *
 * A message may quote what the user typed, and that can hold a newline or
 * a terminal escape; those become '?' so that an error stays one line and
 * cannot rewrite the user's screen.
 */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

/* cli/'s own codes must not be taken for an MU_E* code (cli.h). */
#define MU_CLI_BELOW(name, value, text)                                                \
	_Static_assert(MU_CLI_EUSAGE < (value) && MU_CLI_HELPED < (value),             \
	               "MU_" #name " collides with cli/'s own codes");
MU_ERRNO_MAP(MU_CLI_BELOW)
#undef MU_CLI_BELOW

static bool json_wanted;

void
mu_cli_set_json(bool on)
{
	json_wanted = on;
}

bool
mu_cli_json(void)
{
	return json_wanted;
}

static void vsay(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static void
vsay(const char *fmt, va_list ap)
{
	char line[1024];
	unsigned char *p;

	vsnprintf(line, sizeof(line), fmt, ap);
	for (p = (unsigned char *)line; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	fflush(stdout);
	fprintf(stderr, "muster: %s\n", line);
}

int
mu_cli_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	return err;
}

int
mu_cli_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	return MU_CLI_EUSAGE;
}

void
mu_cli_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

int
mu_cli_unchanged(const struct mu_record *rec, const char *state)
{
	char text[MU_ADDR_TEXT_SIZE];
	struct mu_addr addr;

	mu_rec_addr(rec, &addr);
	mu_addr_to_text(text, &addr);
	mu_cli_note("%s is already %s; nothing changed", text, state);
	printf("%s\n", text);
	return fflush(stdout) == 0 ? 0 : mu_cli_fail(MU_EIO, "cannot write to stdout");
}
