/*
 * cmd_event.c - `muster event add | edit | cancel | list`: the calendar.
 *
 * add and edit share one option table and one function that applies the
 * options over a record: add applies them to an empty event, edit to the
 * current version.
 */
#include <stdlib.h>
#include <string.h>

#include "../node/calendar.h"
#include "cli.h"
#include "json_out.h"
#include "list_out.h"
#include "repeat.h"
#include "when.h"

static const char group_help[] =
    "Usage: muster event add --title T --start WHEN [options]\n"
    "       muster event edit ADDR [options]\n"
    "       muster event cancel ADDR [--on DATE]\n"
    "       muster event list [--from WHEN] [--to WHEN] [--group KEY]\n"
    "                         [--cause ADDR] [--json | --ics]\n"
    "\n"
    "Events are the shared calendar: your group's and those of the groups\n"
    "whose records you hold. `muster event add --help` and the others explain\n"
    "each command.\n"
    "\n"
    "Example:\n"
    "  muster event add --title \"Assembly\" --start 2030-12-05T18:00 \\\n"
    "      --tz Europe/Berlin --where \"Community hall\"\n"
    "  muster event list\n";

static const char add_help[] =
    "Usage: muster event add --title T --start WHEN [--end WHEN | --duration D]\n"
    "           [--tz ZONE]\n"
    "           [--where TEXT] [--address TEXT] [--geo LAT,LON] [--online URL]...\n"
    "           [--cause ADDR] [--capacity N] [--status tentative|confirmed]\n"
    "           [--tag X]... [--host KEY]... [--description D]\n"
    "\n"
    "Publishes a new event of your group, says when it understood it to be\n"
    "(on stderr) and prints its address.\n"
    "\n"
    "WHEN is ISO 8601:\n"
    "  2026-12-05T18:00         local time in --tz ZONE, or in this node's\n"
    "                           zone without --tz\n"
    "  2026-12-05T18:00Z        UTC;  2026-12-05T18:00+01:00  with an offset\n"
    "  2026-12-05               a date: an all-day event. --end is then the\n"
    "                           LAST day, included: --start 2026-12-05\n"
    "                           --end 2026-12-06 is a two-day event\n"
    "\n"
    "Options:\n"
    "  --title T         what it is ({event:title:required}, up to "
    "{event:title:max} bytes)\n"
    "  --start WHEN      when it starts ({event:start:required})\n"
    "  --end WHEN        when it ends (a time, or the last day)\n"
    "  --duration D      how long it lasts, instead of --end: 90m, 2h, 1h30m.\n"
    "                    With neither, an event at a time lasts 2 hours\n"
    "  --tz ZONE         the zone it is held in, an IANA name such as\n"
    "                    Europe/Berlin. Without it, local times are read in\n"
    "                    this node's zone (`muster profile set --tz`), which\n"
    "                    the event then keeps\n"
    "  --where TEXT      the place's name: \"Community hall\"\n"
    "  --address TEXT    the street address\n"
    "  --geo LAT,LON     the place in decimal degrees: 52.5200,13.4050\n"
    "  --online URL      a link to join online; repeat for more "
    "({event:online:list_max} at most)\n"
    "  --cause ADDR      the address of the cause it serves (any group's)\n"
    "  --capacity N      how many people fit\n"
    "  --status S        confirmed (the default) or tentative\n"
    "  --tag X           a tag; repeat for more ({event:tags:list_max} at most)\n"
    "  --host KEY        a co-hosting group's key; repeat for more\n"
    "  --description D   the full text; line breaks allowed\n"
    "  --past            publish it although it starts in the past (without\n"
    "                    it, a start in the past is refused as a typo)\n"
    "\n"
    "Repeating (a series, up to a year and 400 dates; docs/PROTOCOL.md):\n"
    "  --repeat R        daily, weekly or monthly (monthly: on the day of the\n"
    "                    month of --start; months without it are left out)\n"
    "  --every N         every N days, weeks or months (default 1)\n"
    "  --on DAYS         weekly on these days: tue,thu (default: the day of\n"
    "                    --start)\n"
    "  --until DATE      the last date it may fall on, YYYY-MM-DD\n"
    "  --count N         or how many dates it has (one of the two)\n"
    "  --skip DATES      dates left out: 2030-12-24,2030-12-31\n"
    "\n"
    "Example:\n"
    "  muster event add --title \"Tenants' assembly\" --start 2030-12-05T18:00 \\\n"
    "      --end 2030-12-05T20:00 --tz Europe/Berlin --where \"Community hall\"\n"
    "  muster event add --title \"Food distribution\" --start 2030-01-08T18:00 \\\n"
    "      --end 2030-01-08T20:00 --tz Europe/Berlin --repeat weekly \\\n"
    "      --on tue,thu --until 2030-06-27\n";

static const char edit_help[] =
    "Usage: muster event edit ADDR [any option of `muster event add`]\n"
    "\n"
    "Publishes a new revision of one of your events at the same address, so\n"
    "calendars that hold the old one replace it. Options you give replace the\n"
    "current value; the others stay. An empty value removes a field\n"
    "(--geo \"\", --end \"\"). Any --tag, --online or --host replaces that whole\n"
    "list; a single empty one (--tag \"\") removes it. Moving --start alone\n"
    "keeps the event's length; --duration D sets the end D after the start.\n"
    "A local WHEN is read in --tz, else in the event's own zone, else in\n"
    "this node's; --tz alone changes the zone the event is held in, not its\n"
    "times. --status may also be cancelled (see `event cancel`) or\n"
    "set back to confirmed.\n"
    "\n"
    "With --from DATE on a repeating event, the changes apply from that date\n"
    "on: the series ends the day before, and the rest becomes a new event\n"
    "with its own address (printed after the old one).\n"
    "\n"
    "Example:\n"
    "  muster event edit mug1…/event/91c2d7e05b6a4f38 --where \"Library, room 2\"\n";

static const char cancel_help[] =
    "Usage: muster event cancel ADDR [--on DATE]\n"
    "\n"
    "Marks one of your events as cancelled (a new revision with status\n"
    "cancelled). It stays in calendars, marked CANCELLED, so that people who\n"
    "planned to come find out. To remove it altogether use `muster delete`.\n"
    "With --on DATE (YYYY-MM-DD), of a repeating event only the occurrence\n"
    "on that date is cancelled, and shown so.\n"
    "\n"
    "Example:\n"
    "  muster event cancel mug1…/event/91c2d7e05b6a4f38\n"
    "  muster event cancel mug1…/event/91c2d7e05b6a4f38 --on 2030-01-15\n";

static const char list_help[] =
    "Usage: muster event list [--from WHEN] [--to WHEN] [--group KEY]\n"
    "                         [--cause ADDR] [--tz ZONE] [--all]\n"
    "                         [--json | --ics]\n"
    "\n"
    "Lists the events this node holds, soonest first: by default those still\n"
    "running or yet to come. Times are shown in this node's zone (`muster\n"
    "profile set --tz`), or in --tz ZONE; an event held in another zone has\n"
    "its own times beside them: 19:00 (18:00 Europe/London). Cancelled\n"
    "events are marked CANCELLED.\n"
    "\n"
    "Options:\n"
    "  --from WHEN   events that end after WHEN (default: now; with --ics:\n"
    "                all past events too)\n"
    "  --to WHEN     events that start before WHEN; a date includes that day\n"
    "  --group KEY   only events that group publishes or co-hosts\n"
    "  --cause ADDR  only events of that cause\n"
    "  --tz ZONE     show times in ZONE, and read a local --from/--to there\n"
    "                (default: this node's zone)\n"
    "  --all         also the events of groups that left this node's scope\n"
    "                (an alliance ended), marked \"not updated since DATE\";\n"
    "                without it they are left out, as no longer current\n"
    "  --json        print a JSON array of records instead of text\n"
    "  --ics         print an iCalendar feed (RFC 5545), the same as the\n"
    "                node's /calendar.ics; docs/API.md describes it\n"
    "\n"
    "WHEN is ISO 8601, as in `muster event add --help`.\n"
    "\n"
    "Examples:\n"
    "  muster event list --from 2026-12-01 --to 2026-12-31\n"
    "  muster event list --ics > coalition.ics\n";

static const char *const status_names[] = {NULL, "tentative", "confirmed", "cancelled"};

struct event_opts {
	const char *title, *description, *start, *end, *duration, *tz, *where, *address,
	    *geo, *cause, *capacity, *status;
	struct mu_cli_list online, tags, hosts;
	bool past; /* --past: a start in the past is meant */
	struct mu_cli_repeat_opts rep;
	const char *from;              /* edit --from DATE: the rest of a series */
	struct mu_cli_repeat_buf *buf; /* the dates the record borrows */
};

#define EVENT_OPTS(o)                                                                  \
	{"title", MU_OPT_VALUE, &(o).title},                                           \
	    {"description", MU_OPT_VALUE, &(o).description},                           \
	    {"start", MU_OPT_VALUE, &(o).start}, {"end", MU_OPT_VALUE, &(o).end},      \
	    {"duration", MU_OPT_VALUE, &(o).duration}, {"tz", MU_OPT_VALUE, &(o).tz},  \
	    {"where", MU_OPT_VALUE, &(o).where},                                       \
	    {"address", MU_OPT_VALUE, &(o).address}, {"geo", MU_OPT_VALUE, &(o).geo},  \
	    {"cause", MU_OPT_VALUE, &(o).cause},                                       \
	    {"capacity", MU_OPT_VALUE, &(o).capacity},                                 \
	    {"status", MU_OPT_VALUE, &(o).status},                                     \
	    {"online", MU_OPT_LIST, &(o).online}, {"tag", MU_OPT_LIST, &(o).tags},     \
	    {"host", MU_OPT_LIST, &(o).hosts}, {"past", MU_OPT_FLAG, &(o).past},       \
	    MU_CLI_REPEAT_OPTS((o).rep), {"from", MU_OPT_VALUE, &(o).from},            \
	{                                                                              \
		NULL, 0, NULL                                                          \
	}

static bool
any_option(const struct event_opts *o)
{
	return o->title != NULL || o->description != NULL || o->start != NULL ||
	       o->end != NULL || o->duration != NULL || o->tz != NULL ||
	       o->where != NULL || o->address != NULL || o->geo != NULL ||
	       o->cause != NULL || o->capacity != NULL || o->status != NULL ||
	       o->online.n > 0 || o->tags.n > 0 || o->hosts.n > 0 ||
	       mu_cli_repeat_any(&o->rep);
}

/*
 * Reads one coordinate in decimal degrees as an exact count of 1e-7 degrees
 * (no floating point, so 52.52 is 525200000 and not one unit off). An 8th
 * decimal rounds half away from zero; more decimals are ignored.
 */
static bool
parse_degrees(const char **p, int64_t *out)
{
	const char *s = *p;
	int64_t whole = 0, frac = 0;
	int sign = 1, nint = 0, nfrac = 0;

	while (*s == ' ')
		s++;
	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	for (; *s >= '0' && *s <= '9'; s++, nint++) {
		if (nint == 4)
			return false;
		whole = whole * 10 + (*s - '0');
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, nfrac++) {
			if (nfrac < 7)
				frac = frac * 10 + (*s - '0');
			else if (nfrac == 7 && *s >= '5')
				frac++;
		}
	}
	if (nint == 0 && nfrac == 0)
		return false;
	for (; nfrac < 7; nfrac++)
		frac *= 10;
	while (*s == ' ')
		s++;
	*out = sign * (whole * MU_GEO_SCALE + frac);
	*p = s;
	return true;
}

static int
apply_geo(struct mu_location *loc, const char *text)
{
	const char *p = text;
	int64_t lat, lon;

	if (text[0] == '\0') {
		loc->has_geo = false;
		return 0;
	}
	if (!parse_degrees(&p, &lat) || *p++ != ',' || !parse_degrees(&p, &lon) ||
	    *p != '\0')
		return mu_cli_fail(MU_EINVAL,
		                   "--geo: '%s' is not LAT,LON; give decimal degrees "
		                   "like 52.5200,13.4050 (south and west negative)",
		                   text);
	if (lat < -90LL * MU_GEO_SCALE || lat > 90LL * MU_GEO_SCALE)
		return mu_cli_fail(MU_EINVAL,
		                   "latitude in --geo %s is outside -90 to 90", text);
	if (lon < -180LL * MU_GEO_SCALE || lon > 180LL * MU_GEO_SCALE)
		return mu_cli_fail(MU_EINVAL,
		                   "longitude in --geo %s is outside -180 to "
		                   "180",
		                   text);
	loc->lat = (int32_t)lat;
	loc->lon = (int32_t)lon;
	loc->has_geo = true;
	return 0;
}

static int
apply_capacity(struct mu_event *ev, const char *text)
{
	unsigned long long v = 0;
	const char *p;

	if (text[0] == '\0') {
		ev->has_capacity = false;
		return 0;
	}
	for (p = text; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || v > 100000000ULL)
			return mu_cli_fail(MU_EINVAL,
			                   "--capacity '%s' must be a whole "
			                   "number from 1 to 10000000",
			                   text);
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v < 1 || v > 10000000ULL)
		return mu_cli_fail(MU_EINVAL,
		                   "--capacity %s must be from 1 to 10000000", text);
	ev->capacity = (uint32_t)v;
	ev->has_capacity = true;
	return 0;
}

static int
apply_cause(struct mu_event *ev, const char *text)
{
	struct mu_why why = {0};

	if (text[0] == '\0') {
		ev->has_cause = false;
		return 0;
	}
	if (mu_addr_from_text(&ev->cause, text, &why) != 0)
		return mu_cli_fail(MU_EINVAL,
		                   "--cause: '%s' is not a cause address: %s; `muster "
		                   "cause list` shows them",
		                   text, why.text);
	if (ev->cause.kind != MU_KIND_CAUSE)
		return mu_cli_fail(MU_EINVAL,
		                   "--cause: %s has kind %s; give the address of a "
		                   "cause (`muster cause list` shows them)",
		                   text, mu_kind_name(ev->cause.kind));
	ev->has_cause = true;
	return 0;
}

static int
apply_hosts(struct mu_cli *cli, struct mu_event *ev, const struct mu_cli_list *l)
{
	size_t i;
	int rc;

	if (l->n == 0)
		return 0;
	if (l->n == 1 && l->v[0][0] == '\0') {
		ev->nhosts = 0;
		return 0;
	}
	if (l->n > MU_LIST_MAX)
		return mu_cli_fail(MU_EINVAL,
		                   "--host given %zu times; an event has "
		                   "at most %d hosts",
		                   l->n, MU_LIST_MAX);
	for (i = 0; i < l->n; i++) {
		rc = mu_cli_key_arg(cli, ev->hosts[i], l->v[i], "--host");
		if (rc != 0)
			return rc;
	}
	ev->nhosts = l->n;
	return 0;
}

/* Reads one WHEN option; says which option was wrong. */
static int
when_arg(struct mu_cli_when *w, const char *opt, const char *text, const char *zone)
{
	struct mu_why why = {0};

	if (mu_cli_when_parse(w, text, zone, &why) != 0)
		return mu_cli_fail(MU_EINVAL, "--%s: %s", opt, why.text);
	return 0;
}

/* A new timed event given neither --end nor --duration lasts this long. */
#define MU_CLI_DEFAULT_LENGTH (2 * 3600)

static int
apply_duration(struct mu_event *ev, const char *text)
{
	struct mu_why why = {0};
	int64_t secs;

	if (ev->all_day)
		return mu_cli_fail(
		    MU_EINVAL, "--duration: an all-day event lasts whole days; give "
		               "its last day with --end instead");
	if (mu_cli_duration_parse(text, &secs, &why) != 0)
		return mu_cli_fail(MU_EINVAL, "--duration %s: %s", text, why.text);
	ev->end = ev->start + secs;
	ev->has_end = true;
	return 0;
}

/* What apply_times() understood, for mu_cli_event_publish(). */
struct times_said {
	const char *zone; /* the zone times are said in: the event's, or ours */
	bool default_end; /* the end is start + MU_CLI_DEFAULT_LENGTH */
};

/*
 * Applies start, end (or duration) and tz. zone_buf holds a zone name the
 * record borrows when it is not in argv (the node's zone, or a copy of the
 * event's own). A new timed event without an end lasts the default length.
 */
static int
apply_times(struct mu_cli *cli, struct mu_event *ev, const struct event_opts *o,
            bool adding, char zone_buf[MU_CLI_ZONE_SIZE], struct times_said *said)
{
	struct mu_cli_when ws, we;
	const char *zone = NULL;
	bool old_all_day = ev->all_day, local = false;
	int64_t old_len = ev->has_end ? ev->end - ev->start : 0, now = cli->now;
	int rc;

	if (o->end != NULL && o->duration != NULL)
		return mu_cli_usage(
		    "give --end or --duration, not both: --end says "
		    "when the event ends, --duration how long it lasts");
	if (o->tz != NULL && o->tz[0] != '\0') {
		if ((rc = mu_cli_zone_arg(o->tz, "--tz")) != 0)
			return rc;
		ev->tz = mu_cli_str(o->tz);
		zone = o->tz;
	} else if (o->tz == NULL && ev->tz.len > 0 && ev->tz.len < MU_CLI_ZONE_SIZE) {
		/* An edit reads local times in the event's own zone. */
		memcpy(zone_buf, ev->tz.ptr, ev->tz.len);
		zone_buf[ev->tz.len] = '\0';
		zone = zone_buf;
	} else {
		/* Not the process's TZ: the zone the node's people use. */
		if (o->tz != NULL)
			ev->tz = mu_cli_str(NULL);
		if ((rc = mu_cli_node_zone(cli, zone_buf, &zone)) != 0)
			return rc;
	}
	said->zone = zone;
	if (o->start != NULL) {
		if ((rc = when_arg(&ws, "start", o->start, zone)) != 0)
			return rc;
		ev->all_day = ws.date_only;
		ev->start = ws.date_only ? ws.day_utc : ws.t;
		local = ws.local && !ws.date_only;
	}
	if (o->end != NULL && o->end[0] != '\0') {
		if ((rc = when_arg(&we, "end", o->end, zone)) != 0)
			return rc;
		if (we.date_only != ev->all_day)
			return mu_cli_fail(
			    MU_EINVAL, "--end: give a date (the last day) when --start "
			               "is a date, and a time when --start is a time");
		if (we.date_only && we.day_utc < ev->start)
			return mu_cli_fail(MU_EINVAL,
			                   "the last day, --end %s, is "
			                   "before the first day of the event",
			                   o->end);
		ev->end = we.date_only ? we.day_utc + 86400 : we.t;
		ev->has_end = true;
		local = local || (we.local && !we.date_only);
	} else if (o->end != NULL) {
		ev->has_end = false;
	} else if (o->start != NULL && ev->has_end) {
		if (old_all_day != ev->all_day)
			return mu_cli_fail(
			    MU_EINVAL,
			    "--start: the event's end is a %s; give --end "
			    "as a %s too, or --end \"\" for none",
			    old_all_day ? "date" : "time",
			    ev->all_day ? "date" : "time");
		ev->end = ev->start + old_len;
	}
	if (o->duration != NULL && (rc = apply_duration(ev, o->duration)) != 0)
		return rc;
	if (adding && !ev->all_day && o->end == NULL && o->duration == NULL) {
		ev->end = ev->start + MU_CLI_DEFAULT_LENGTH;
		ev->has_end = true;
		said->default_end = true;
	}
	/* A start in the past is most often a mistyped year or month: it would
	 * vanish from every list at once. An all-day event is past when its
	 * first day is over. */
	if (o->start != NULL && !o->past &&
	    (ev->all_day ? ev->start + 86400 <= now : ev->start < now))
		return mu_cli_fail(MU_EINVAL,
		                   "--start %s is in the past; add --past if that is "
		                   "meant",
		                   o->start);
	/* A time typed in the node's zone was meant in it: say so in the
	 * record, so that others see the event at the hour it was given. */
	if (local && o->tz == NULL && ev->tz.len == 0 && zone != NULL)
		ev->tz = mu_cli_str(zone);
	return 0;
}

static int
apply(struct mu_cli *cli, struct mu_event *ev, const struct event_opts *o, bool adding,
      char zone_buf[MU_CLI_ZONE_SIZE], struct times_said *said)
{
	struct mu_location *loc = &ev->location;
	int s, rc;

	if (o->title != NULL)
		ev->title = mu_cli_str(o->title);
	if (o->description != NULL)
		ev->description = mu_cli_str(o->description);
	if (o->status != NULL) {
		s = mu_cli_pick("status", o->status, status_names, 4);
		if (s < 0)
			return s;
		if (adding && s == MU_EVENT_CANCELLED)
			return mu_cli_fail(MU_EINVAL,
			                   "--status: a new event cannot start out "
			                   "cancelled; use tentative or confirmed");
		ev->status = (enum mu_event_status)s;
	}
	if ((rc = apply_times(cli, ev, o, adding, zone_buf, said)) != 0)
		return rc;
	if ((rc = mu_cli_repeat_apply(ev, &o->rep, o->buf)) != 0)
		return rc;
	if (o->where != NULL)
		loc->name = mu_cli_str(o->where);
	if (o->address != NULL)
		loc->address = mu_cli_str(o->address);
	if (o->geo != NULL && (rc = apply_geo(loc, o->geo)) != 0)
		return rc;
	loc->set = loc->name.len > 0 || loc->address.len > 0 || loc->has_geo;
	if (o->cause != NULL && (rc = apply_cause(ev, o->cause)) != 0)
		return rc;
	if (o->capacity != NULL && (rc = apply_capacity(ev, o->capacity)) != 0)
		return rc;
	if ((rc = mu_cli_strs_arg(&o->online, "online", MU_ONLINE_MAX, ev->online,
	                          &ev->nonline)) != 0)
		return rc;
	if ((rc = mu_cli_strs_arg(&o->tags, "tag", MU_LIST_MAX, ev->tags,
	                          &ev->ntags)) != 0)
		return rc;
	return apply_hosts(cli, ev, &o->hosts);
}

/* A cause address nobody has sent here may be mistyped, or simply not
 * arrived yet: the event goes out with it, but the person hears of it. */
static void
note_unknown_cause(struct mu_cli *cli, const struct mu_event *ev,
                   const struct event_opts *o)
{
	struct mu_cli_rec r = {NULL, {0}};

	if (o->cause == NULL || !ev->has_cause)
		return;
	if (mu_cli_lookup(cli, &ev->cause, &r) == MU_ENOTFOUND)
		mu_cli_note("--cause %s is not known here yet (no such cause is "
		            "stored on this node); published with it all the same",
		            o->cause);
	mu_cli_rec_free(&r);
}

static int
add(struct mu_cli *cli, int argc, char **argv)
{
	struct event_opts o;
	const struct mu_cli_opt opts[] = {EVENT_OPTS(o)};
	const struct mu_cli_spec spec = {"event add", add_help, opts, "", 0, 0};
	char d[MU_CLI_D_SIZE], zone_buf[MU_CLI_ZONE_SIZE];
	struct mu_cli_repeat_buf buf;
	struct times_said said = {NULL, false};
	struct mu_record rec;
	int rc;

	memset(&o, 0, sizeof(o));
	o.buf = &buf;
	rc = mu_cli_parse(&spec, argc, argv, NULL, NULL);
	if (rc != 0)
		return rc;
	if (o.title == NULL || o.start == NULL)
		return mu_cli_usage("event add: --title and --start are required; see "
		                    "`muster event add --help`");
	if (o.from != NULL)
		return mu_cli_usage("event add: --from is for `event edit` of a "
		                    "repeating event");
	mu_cli_new_rec(&rec, MU_KIND_EVENT, d);
	rec.c.event.status = MU_EVENT_CONFIRMED;
	rc = apply(cli, &rec.c.event, &o, true, zone_buf, &said);
	if (rc != 0)
		return rc;
	if ((rc = mu_cli_open(cli, MU_CLI_SECRET)) != 0)
		return rc;
	note_unknown_cause(cli, &rec.c.event, &o);
	return mu_cli_event_publish(cli, &rec, "create event", said.zone,
	                            said.default_end);
}

/*
 * edit --from DATE: the series rec (the next revision of ours) ends the
 * day before DATE, and the options apply to the rest, a new event. The old
 * one is published first, so that the dates are never in two series.
 */
static int
split(struct mu_cli *cli, struct mu_record *rec, const struct event_opts *o,
      char zone_buf[MU_CLI_ZONE_SIZE], struct times_said *said)
{
	struct mu_cli_repeat_buf next_buf;
	struct event_opts rest = *o;
	char d[MU_CLI_D_SIZE];
	struct mu_record next;
	int rc;

	mu_cli_new_rec(&next, MU_KIND_EVENT, d);
	rc = mu_cli_repeat_split(&rec->c.event, &next.c.event, o->from, o->buf,
	                         &next_buf);
	if (rc != 0)
		return rc;
	rest.buf = &next_buf;
	/* Dates of the rest were moved there from the series; --past is
	 * implied, as its start is the series' own. */
	rest.past = true;
	if ((rc = apply(cli, &next.c.event, &rest, false, zone_buf, said)) != 0)
		return rc;
	if ((rc = mu_cli_publish(cli, rec, "end event series")) != 0)
		return rc;
	note_unknown_cause(cli, &next.c.event, o);
	return mu_cli_event_publish(cli, &next, "create event", said->zone,
	                            said->default_end);
}

/* edit and cancel: a new revision of one of our events. */
static int
revise(struct mu_cli *cli, const char *addr_text, const struct event_opts *o,
       bool cancelling, const char *what)
{
	struct mu_cli_rec cur = {NULL, {0}};
	char zone_buf[MU_CLI_ZONE_SIZE];
	struct times_said said = {NULL, false};
	struct mu_record rec;
	int rc;

	rc = mu_cli_edit_own(cli, addr_text, MU_KIND_EVENT, &cur, &rec);
	if (rc != 0)
		return rc;
	if (cancelling && cur.rec.c.event.status == MU_EVENT_CANCELLED) {
		rc = mu_cli_unchanged(&cur.rec, "cancelled");
		goto out;
	}
	if (cancelling && o->from != NULL) {
		/* cancel --on DATE: one occurrence of the series. */
		rc = mu_cli_repeat_cancel(&rec.c.event, o->from, o->buf);
		if (rc == 1)
			rc = mu_cli_unchanged(&cur.rec, "cancelled on that date");
		else if (rc == 0)
			rc = mu_cli_publish(cli, &rec, what);
		goto out;
	}
	if (o->from != NULL) {
		rc = split(cli, &rec, o, zone_buf, &said);
		goto out;
	}
	rc = apply(cli, &rec.c.event, o, false, zone_buf, &said);
	if (rc == 0) {
		note_unknown_cause(cli, &rec.c.event, o);
		rc = cancelling ? mu_cli_publish(cli, &rec, what)
		                : mu_cli_event_publish(cli, &rec, what, said.zone,
		                                       said.default_end);
	}
out:
	mu_cli_rec_free(&cur);
	return rc;
}

static int
edit(struct mu_cli *cli, int argc, char **argv)
{
	struct event_opts o;
	const struct mu_cli_opt opts[] = {EVENT_OPTS(o)};
	const struct mu_cli_spec spec = {"event edit", edit_help, opts, "ADDR", 1, 1};
	struct mu_cli_repeat_buf buf;
	const char *args[1];
	int rc;

	memset(&o, 0, sizeof(o));
	o.buf = &buf;
	rc = mu_cli_parse(&spec, argc, argv, args, NULL);
	if (rc != 0)
		return rc;
	if (!any_option(&o))
		return mu_cli_usage(
		    "event edit: nothing to change; give the options to "
		    "change, e.g. --where TEXT (see `muster event edit "
		    "--help`)");
	return revise(cli, args[0], &o, false, "edit event");
}

static int
cancel(struct mu_cli *cli, int argc, char **argv)
{
	const char *on = NULL;
	const struct mu_cli_opt opts[] = {{"on", MU_OPT_VALUE, &on}, {NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"event cancel", cancel_help, opts,
	                                 "ADDR",         1,           1};
	struct mu_cli_repeat_buf buf;
	struct event_opts o;
	const char *args[1];
	int rc;

	rc = mu_cli_parse(&spec, argc, argv, args, NULL);
	if (rc != 0)
		return rc;
	memset(&o, 0, sizeof(o));
	o.buf = &buf;
	o.from = on;
	o.status = "cancelled";
	return revise(cli, args[0], &o, true, "cancel event");
}

struct list_ctx {
	struct mu_cal_filter f; /* the group and cause to list */
	struct mu_cli_lister out;
};

/* A series is listed when one of its occurrences falls in the window, with
 * those occurrences under it. */
static int
list_one(void *ctx, const struct mu_record *rec)
{
	struct list_ctx *c = ctx;
	const struct mu_event *ev = &rec->c.event;
	int rc;

	if (!mu_cal_passes(&c->f, rec))
		return 0;
	if (ev->repeat.set && mu_cli_repeat_count_in(ev, c->f.from, c->f.to) == 0)
		return 0;
	rc = mu_cli_lister_add(&c->out, rec);
	if (rc != 0 || !ev->repeat.set)
		return rc;
	if (c->out.print != NULL)
		mu_cli_repeat_print(stdout, ev, c->f.from, c->f.to, c->out.zone);
	else
		rc = mu_cli_repeat_json(
		    json_array_get(c->out.json, json_array_size(c->out.json) - 1), ev,
		    c->f.from, c->f.to);
	return rc;
}

/* Past events that pass a filter: how many, and the first one's start. */
struct past_ctx {
	const struct mu_cal_filter *f;
	int64_t now, first;
	size_t n;
};

static int
count_past(void *ctx, const struct mu_record *rec)
{
	struct past_ctx *c = ctx;
	const struct mu_event *ev = &rec->c.event;
	int64_t end = ev->has_end ? ev->end : ev->start + (ev->all_day ? 86400 : 0);

	/* Those still running were listed: only the ones over were hidden. */
	if (!mu_cal_passes(c->f, rec) || end > c->now)
		return 0;
	if (c->n++ == 0 || ev->start < c->first)
		c->first = ev->start;
	return 0;
}

/*
 * Nothing to list from now on: says so, and when past events were hidden by
 * the default --from, how many and the --from that shows them, so that an
 * event just published with a past start is not taken for lost.
 */
static int
say_past(struct mu_cli *cli, const struct mu_cal_filter *f, bool open_end)
{
	struct past_ctx c = {f, cli->now, 0, 0};
	struct mu_cal_filter all;
	char day[MU_CLI_ISO_SIZE];
	int rc;

	mu_cal_filter_all(&all);
	rc = mu_store_events(cli->store, all.from, cli->now, count_past, &c);
	if (rc != 0)
		return rc;
	printf("No events%s. Publish one with `muster event add`.\n",
	       open_end ? " coming up" : " then");
	if (c.n > 0) {
		mu_cli_when_iso(day, c.first);
		day[10] = '\0';
		printf("%zu past event%s; `--from %s` shows %s.\n", c.n,
		       c.n == 1 ? "" : "s", day, c.n == 1 ? "it" : "them");
	}
	return 0;
}

/* A group's profile name, or its whole key when it has none stored. */
static void
feed_group_name(struct mu_cli *cli, const uint8_t key[MU_KEY_BYTES],
                char out[MU_KEY_TEXT_SIZE + MU_CLI_NAME_SIZE])
{
	if (!mu_cli_group_name(cli, key, out))
		mu_key_to_text(out, key);
}

/*
 * The feed's display name, as the node's HTTP feeds name theirs, so that
 * both print the same bytes: the cause's title for --cause, the group's name
 * for --group, else "<our group's name>: coalition calendar".
 */
static void
feed_name(struct mu_cli *cli, const struct mu_cal_filter *f, char *out, size_t size)
{
	char name[MU_KEY_TEXT_SIZE + MU_CLI_NAME_SIZE];
	struct mu_cli_rec r = {NULL, {0}};
	const struct mu_str *t;

	if (f->cause != NULL) {
		if (mu_cli_lookup(cli, f->cause, &r) == 0) {
			t = &r.rec.c.cause.title;
			snprintf(out, size, "%.*s", (int)t->len, t->ptr);
		} else {
			mu_addr_to_text(name, f->cause);
			snprintf(out, size, "%s", name);
		}
		mu_cli_rec_free(&r);
	} else if (f->group != NULL) {
		feed_group_name(cli, f->group, name);
		snprintf(out, size, "%s", name);
	} else {
		feed_group_name(cli, cli->home->group, name);
		snprintf(out, size, "%s: coalition calendar", name);
	}
}

static int
print_ics(struct mu_cli *cli, const struct mu_cal_filter *f)
{
	char name[MU_ADDR_TEXT_SIZE + MU_CLI_NAME_SIZE + 32];
	struct mu_buf out = MU_BUF_INIT;
	struct mu_why why = {0};
	int rc;

	feed_name(cli, f, name, sizeof(name));
	rc = mu_cal_ics(cli->store, f, name, &out, &why);
	if (rc != 0)
		rc = mu_cli_fail(MU_EIO, "cannot write the calendar: %s", why.text);
	else if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0)
		rc =
		    mu_cli_fail(MU_EIO, "cannot write the calendar to standard output");
	mu_buf_free(&out);
	return rc;
}

static int
list(struct mu_cli *cli, int argc, char **argv)
{
	const char *from_text = NULL, *to_text = NULL, *group_text = NULL,
	           *cause_text = NULL, *zone = NULL;
	bool json = false, ics = false, all = false;
	const struct mu_cli_opt opts[] = {
	    {"all", MU_OPT_FLAG, &all},
	    {"from", MU_OPT_VALUE, &from_text},
	    {"to", MU_OPT_VALUE, &to_text},
	    {"group", MU_OPT_VALUE, &group_text},
	    {"cause", MU_OPT_VALUE, &cause_text},
	    {"tz", MU_OPT_VALUE, &zone},
	    {"json", MU_OPT_FLAG, &json},
	    {"ics", MU_OPT_FLAG, &ics},
	    {NULL, 0, NULL},
	};
	const struct mu_cli_spec spec = {"event list", list_help, opts, "", 0, 0};
	struct list_ctx ctx;
	char next_day[MU_CLI_ISO_SIZE];
	uint8_t group[MU_KEY_BYTES];
	struct mu_event cause; /* for apply_cause(), which checks the address */
	char zone_buf[MU_CLI_ZONE_SIZE];
	struct mu_cli_when w;
	struct mu_why why = {0};
	int64_t from, to = MU_TIME_MAX + 1;
	int rc, end;

	rc = mu_cli_parse(&spec, argc, argv, NULL, NULL);
	if (rc != 0)
		return rc;
	if (json && ics)
		return mu_cli_usage("event list: give --json or --ics, not both");
	if (zone != NULL && (rc = mu_cli_zone_arg(zone, "--tz")) != 0)
		return rc;
	if (zone == NULL && (rc = mu_cli_node_zone(cli, zone_buf, &zone)) != 0)
		return rc;
	memset(&ctx, 0, sizeof(ctx));
	mu_cal_filter_all(&ctx.f);
	ctx.f.now = cli->now; /* the pledges' states */
	/* A feed keeps past events, as calendar apps keep them. */
	from = ics ? ctx.f.from : cli->now;
	if (from_text != NULL) {
		if ((rc = when_arg(&w, "from", from_text, zone)) != 0)
			return rc;
		from = w.t;
	}
	if (to_text != NULL) {
		if ((rc = when_arg(&w, "to", to_text, zone)) != 0)
			return rc;
		to = w.t;
		if (w.date_only) {
			/* --to 2026-12-31 includes the 31st: up to the next
			 * day's midnight in the same zone. */
			mu_cli_when_iso(next_day, w.day_utc + 86400);
			next_day[10] = '\0';
			if (mu_cli_when_parse(&w, next_day, zone, &why) == 0)
				to = w.t;
			else
				to = MU_TIME_MAX + 1;
		}
	}
	if (to <= from)
		return mu_cli_usage("event list: --to must be later than --from");
	if (group_text != NULL) {
		if ((rc = mu_cli_key_arg(cli, group, group_text, "--group")) != 0)
			return rc;
		ctx.f.group = group;
	}
	if (cause_text != NULL) {
		if ((rc = apply_cause(&cause, cause_text)) != 0)
			return rc;
		ctx.f.cause = &cause.cause;
	}
	rc = mu_cli_open(cli, MU_CLI_READONLY);
	if (rc != 0)
		return rc;
	ctx.f.from = from;
	ctx.f.to = to;
	if (ics)
		return print_ics(cli, &ctx.f);
	rc = mu_cli_lister_begin(&ctx.out, cli, json, mu_cli_print_event);
	if (rc != 0)
		return rc;
	ctx.out.zone = zone;
	ctx.out.all = all;
	rc = mu_store_events(cli->store, from, to, list_one, &ctx);
	if (rc == 0 && !json && ctx.out.n == 0 && from_text == NULL)
		rc = say_past(cli, &ctx.f, to_text == NULL);
	else if (rc == 0 && !json && ctx.out.n == 0)
		printf("No events then. Publish one with `muster event add`.\n");
	if ((end = mu_cli_lister_end(&ctx.out, rc)) != 0)
		return end;
	if (rc != 0)
		return mu_cli_fail(rc, "cannot list the events: %s%s", mu_strerror(rc),
		                   rc == MU_EIO ? ": `muster check` tells whether the "
		                                  "store is damaged"
		                                : "");
	return 0;
}

int
mu_cli_cmd_event(struct mu_cli *cli, int argc, char **argv)
{
	static const struct mu_cli_sub subs[] = {{"add", add},
	                                         {"edit", edit},
	                                         {"cancel", cancel},
	                                         {"list", list},
	                                         {NULL, NULL}};

	return mu_cli_dispatch(cli, "event", group_help, subs, argc, argv);
}
