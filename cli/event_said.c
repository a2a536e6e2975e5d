/*
 * event_said.c - publishing an event and saying, in words, when it was
 * understood to be: `event add` and `event edit`.
 */
#include <stdio.h>

#include "cli.h"
#include "when.h"

int
mu_cli_event_publish(struct mu_cli *cli, struct mu_record *rec, const char *what,
                     const char *zone, bool default_end)
{
	const struct mu_event *ev = &rec->c.event;
	char addr[MU_ADDR_TEXT_SIZE], words[MU_CLI_WORDS_SIZE], end[32];
	char length[MU_CLI_DURATION_SIZE];
	struct mu_event open_ended;
	int rc;

	if ((rc = mu_cli_store_new(cli, rec, what, addr)) != 0)
		return rc;
	if (default_end) {
		open_ended = *ev;
		open_ended.has_end = false;
		mu_cli_when_words(words, &open_ended, zone, cli->now);
		mu_cli_when_format(end, sizeof(end), ev->end, zone,
		                   mu_cli_when_day(ev->start, zone) ==
		                           mu_cli_when_day(ev->end, zone)
		                       ? "%H:%M"
		                       : "%A %H:%M");
		mu_cli_duration_text(length, ev->end - ev->start);
		fprintf(stderr, "%s, ends %s (default %s; use --end or --duration)\n",
		        words, end, length);
	} else {
		mu_cli_when_words(words, ev, zone, cli->now);
		fprintf(stderr, "%s\n", words);
	}
	printf("%s\n", addr);
	return fflush(stdout) == 0 ? 0 : mu_cli_fail(MU_EIO, "cannot write to stdout");
}
