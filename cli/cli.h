/*
 * cli.h - the inside of the `muster` command: what the command files share.
 *
 * Every command is a function `int mu_cli_cmd_X(struct mu_cli *, argc, argv)`.
 * Like every function in cli/ that can fail, it returns 0 or a negative
 * code: an MU_E* code (protocol/error.h) or one of cli/'s own two below.
 * Only main.c turns a code into the process's exit status. Errors are
 * printed where they are found, as exactly one line on stderr that starts
 * "muster: " and says what was wrong and how to fix it; callers only pass
 * the code on. A function that fails silently says so (mu_cli_lookup()).
 *
 * The shared pieces live in one file each:
 *   args.c     option parsing, subcommand dispatch, help texts
 *   fail.c     the one-line error messages
 *   context.c  opening the home and the store, copying records out of it,
 *              group names, looking up our own records to edit them
 *   names.c    groups by name or key start, records by d start
 *   publish.c  build, sign, store and print a new record
 *   when.c     time input and output (when.h)
 *   zone.c     the node's time zone
 *   event_said.c  an event published with its time said in words
 *   json_out.c records as JSON (json_out.h)
 *   list_out.c the lists, printed while the store is walked (list_out.h)
 *   print.c    records as text for people
 *   cmd_peer.c the peers table, read by `peer list` and `status`
 *
 * Ownership: struct mu_cli is owned by main(); mu_cli_open() fills its home
 * and store and mu_cli_close() releases them. A struct mu_cli_rec owns a
 * copy of a record's bytes and the parsed record borrows from that copy.
 */
#ifndef MU_CLI_H
#define MU_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../protocol/record.h"
#include "../protocol/textform.h"
#include "../storage/home.h"
#include "../storage/store.h"

/*
 * cli/'s own codes, beside the MU_E* codes and below all of them (and below
 * errno values, which libuv passes up negated), so that none is mistaken
 * for another.
 */
enum {
	MU_CLI_EUSAGE = -200, /* the command line is wrong: exit status 2 */
	MU_CLI_HELPED = -201, /* help was printed: the command is done, exit 0 */
};

struct mu_cli {
	const char *home_dir; /* the node's home, resolved by main() */
	struct mu_home *home; /* set by mu_cli_open() */
	struct mu_store *store;
	int64_t
	    now; /* the clock, read once at start: every record of a run shares it */
	char
	    d[MU_D_MAX + 1]; /* the d found by mu_cli_own_d(), which addresses borrow */
	const char *organizer_name; /* for this home's organizer record, when
	                               mu_cli_open() makes it; NULL: the host name */
};

/* ---- cmd_key.c ------------------------------------------------------- */

/*
 * Reads the shares args name (texts, or files holding them) and joins
 * them: on success the group key's seed goes to seed (MU_HOME_SEED_BYTES of
 * the caller's sodium_malloc() memory) and its public key to group.
 * Otherwise prints which share is at fault and returns the error.
 */
int mu_cli_join_shares(const char *const *args, size_t nargs, uint8_t *seed,
                       uint8_t group[MU_KEY_BYTES]);

/* ---- crash.c --------------------------------------------------------- */

/* Has a SIGSEGV or SIGBUS (LMDB reading a damaged page) print one line
 * naming home_dir, `muster check` and `muster restore`, and exit with
 * status 1. Not in sanitizer builds. */
void mu_cli_crash_handler(const char *home_dir);
/* Gives those signals their default action again (death). */
void mu_cli_crash_default(void);

/* ---- fail.c ---------------------------------------------------------- */

/* Prints "muster: <message>" as one line on stderr; returns err, a
 * negative MU_E* code (the one that failed, or MU_EINVAL for bad input). */
int mu_cli_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same for usage errors; returns MU_CLI_EUSAGE. */
int mu_cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "muster: <message>" as one line on stderr for a command that goes
 * on and succeeds: a warning the person should read. */
void mu_cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * For a change asked twice (a second cancel, a second `ally end`): says on
 * stderr that the record at rec's address is already in state ("cancelled")
 * and that nothing changed, prints the address on stdout as a publish would,
 * and returns 0. No new revision is made: it would only be noise to relay.
 */
int mu_cli_unchanged(const struct mu_record *rec, const char *state);

/*
 * With --json, a command that publishes prints its result and its error as
 * JSON on stdout too (publish.c); args.c sets this for a command that has
 * no --json of its own. The error line on stderr stays as it is.
 */
void mu_cli_set_json(bool on);
bool mu_cli_json(void);

/* ---- fields.c -------------------------------------------------------- */

/* The option (or, for what is not an option, the words) by which a person
 * sets the field at path ("location.name") of kind: "--where". NULL for a
 * field no command sets. */
const char *mu_cli_field_option(enum mu_kind kind, const char *path);

/*
 * Why a record the person is publishing was refused, in their terms: each
 * field path of why's detail ("event.end (1922716800)") becomes the option
 * that sets it and its value as they gave it ("--end 2030-12-05 17:00", in
 * the event's zone), without the rule's name; a missing required field says
 * how to give it. A why that names no field of rec comes out as it is.
 */
void mu_cli_why_say(char *out, size_t n, const struct mu_record *rec,
                    const struct mu_why *why);

/* The field path why's detail starts with ("event.online[0]") into path,
 * for the developers' JSON; returns its length, 0 (path empty) when none. */
size_t mu_cli_why_field(const struct mu_record *rec, const struct mu_why *why,
                        char *path, size_t n);

/* ---- args.c ---------------------------------------------------------- */

enum mu_cli_opt_type {
	MU_OPT_FLAG,  /* --json: sets *(bool *)dest */
	MU_OPT_VALUE, /* --title T: sets *(const char **)dest; only once */
	MU_OPT_LIST,  /* --tag X: appends to *(struct mu_cli_list *)dest */
};

struct mu_cli_opt {
	const char *name; /* without the leading "--"; NULL ends a table */
	enum mu_cli_opt_type type;
	void *dest;
};

/* Values of a repeated option, in the order given. More than any record
 * field holds, so that the field's own limit gives the error. */
#define MU_CLI_LIST_MAX 64
struct mu_cli_list {
	const char *v[MU_CLI_LIST_MAX];
	size_t n;
};

/* One command (or subcommand) as the parser sees it. */
struct mu_cli_spec {
	const char *name; /* "event add", for messages */
	const char *help; /* for --help, through mu_cli_help(); ends with \n */
	const struct mu_cli_opt *opts;
	const char *args; /* the positional arguments for messages: "ADDR" */
	size_t min_args, max_args;
};

/*
 * Prints a command's help text on f. A placeholder "{KIND:FIELD:WHAT}" in
 * it is read from the kind table (protocol/kind.h), so that the help states
 * the limits the parser enforces: "{event:title:max}" is the most bytes of
 * an event's title, "{event:tags:list_max}" the most tags, and
 * "{event:title:required}" the word "required", for a field every record of
 * the kind has. FIELD may be a path: "location.name". Any other brace is
 * text. Returns 0, or prints why (a placeholder that names nothing of the
 * table) and returns the error, having printed none of the help.
 */
int mu_cli_help(FILE *f, const char *text);

/*
 * Parses argv[1..argc) (argv[0] is the command's own name) against spec:
 * "--name value", "--name=value", flags, repeated list options, "--" to end
 * the options, "-h"/"--help". Words that are not options go to args[], in
 * order, and their number to *nargs (nargs may be NULL: a command that takes
 * a fixed number of them). Option values and args borrow argv.
 * Returns 0, MU_CLI_HELPED after printing spec->help on stdout, or
 * MU_CLI_EUSAGE after printing what is wrong.
 */
int mu_cli_parse(const struct mu_cli_spec *spec, int argc, char **argv,
                 const char **args, size_t *nargs);

/*
 * Reads the value of --opt as a whole decimal number from min to max into
 * *out. Returns 0, or MU_CLI_EUSAGE after printing what is wrong.
 */
int mu_cli_uint_opt(const char *opt, const char *text, unsigned long min,
                    unsigned long max, unsigned long *out);

/* A subcommand: "add" in `muster event add`. */
struct mu_cli_sub {
	const char *name;
	int (*run)(struct mu_cli *cli, int argc, char **argv);
};

/*
 * Runs the subcommand named by argv[1] with argv shifted by one, or prints
 * help (the group's help for no word, --help or -h) or a usage error for an
 * unknown word. subs ends with a {NULL} entry.
 */
int mu_cli_dispatch(struct mu_cli *cli, const char *group, const char *help,
                    const struct mu_cli_sub *subs, int argc, char **argv);

/*
 * Finds value among names[0..n) (NULL entries are skipped) and returns its
 * index, so that an enum's values can index names. Otherwise prints that
 * --opt must be one of them and returns MU_EINVAL.
 */
int mu_cli_pick(const char *opt, const char *value, const char *const *names, size_t n);

/*
 * Puts the values of a repeated option into out[] and their number into *n,
 * for a list field of at most max entries. No values: out and *n are left as
 * they are (an edit keeps the list). One empty value: *n = 0 (the list is
 * removed). Returns 0, or prints why and returns MU_EINVAL.
 */
int mu_cli_strs_arg(const struct mu_cli_list *l, const char *opt, size_t max,
                    struct mu_str *out, size_t *n);

/* ---- context.c ------------------------------------------------------- */

enum {
	MU_CLI_SECRET = 1 << 0,    /* load the secret key: we are going to sign */
	MU_CLI_READONLY = 1 << 1,  /* open the store read-only */
	MU_CLI_HOME_ONLY = 1 << 2, /* mu_cli_begin(): the home, not the store */
};

/* Opens cli->home_dir and its store. Returns 0, or prints why and returns
 * the error (a missing home says to run `muster init`). */
int mu_cli_open(struct mu_cli *cli, unsigned flags);

/* Prints that the home holds a group key but no store, and how to rebuild
 * it; returns MU_ENOTFOUND. */
int mu_cli_no_store(const struct mu_cli *cli);

/* Opens only the home (the public key, and the secret with MU_CLI_SECRET),
 * not the store: for commands that hand the store to the node layer, which
 * opens it itself. Returns 0, or prints why and returns the error. */
int mu_cli_open_home(struct mu_cli *cli, unsigned flags);

/*
 * The start of a command that checks nothing of its arguments before it
 * opens the home: mu_cli_parse(), then mu_cli_open(cli, flags), or
 * mu_cli_open_home() with MU_CLI_HOME_ONLY. Returns 0, or what failed
 * (MU_CLI_HELPED too): the command returns that code when it is not 0.
 */
int mu_cli_begin(struct mu_cli *cli, const struct mu_cli_spec *spec, int argc,
                 char **argv, const char **args, size_t *nargs, unsigned flags);

/* Closes what mu_cli_open() opened (wiping the secret). Safe to call twice. */
void mu_cli_close(struct mu_cli *cli);

/* A record copied out of the store, so that it outlives the read. */
struct mu_cli_rec {
	uint8_t *buf;         /* owned: the record's bytes */
	struct mu_record rec; /* borrows buf */
};

/* Copies rec into *out. 0 or MU_ENOMEM. */
int mu_cli_rec_copy(struct mu_cli_rec *out, const struct mu_record *rec);

/* Frees the copy; a zeroed struct is fine. */
void mu_cli_rec_free(struct mu_cli_rec *r);

/* Reads the current version at addr into *out, silently. Returns 0,
 * MU_ENOTFOUND (nothing current there, or deleted), or another error. */
int mu_cli_lookup(struct mu_cli *cli, const struct mu_addr *addr,
                  struct mu_cli_rec *out);

/*
 * The same, but says what is wrong on stderr: that nothing is stored at
 * addr, that it was deleted, or why it could not be read.
 */
int mu_cli_get_current(struct mu_cli *cli, const struct mu_addr *addr,
                       struct mu_cli_rec *out);

/*
 * Parses text as an address of kind `kind` (MU_KIND_NONE: any replaceable
 * kind) that belongs to our own group, for edit, cancel and delete, or as a
 * start of the d of one such record (mu_cli_own_d(): "91c2") when the store
 * is open. addr->d borrows text or cli->d. Returns 0, or prints why and returns the
 * error.
 */
int mu_cli_own_addr(struct mu_cli *cli, const char *text, enum mu_kind kind,
                    struct mu_addr *addr);

/*
 * Finds the one record of our own group, of kind (MU_KIND_NONE: any
 * replaceable kind), whose d starts with text, into *addr (addr->d borrows
 * cli->d). The store must be open. Returns 0, MU_ENOTFOUND silently when
 * none fits, or prints the records that fit when several do and returns
 * MU_EINVAL.
 */
int mu_cli_own_d(struct mu_cli *cli, const char *text, enum mu_kind kind,
                 struct mu_addr *addr);

/* mu_cli_open() with the secret key and mu_cli_own_addr() in one: the
 * start of a command that changes one of our records. */
int mu_cli_open_own(struct mu_cli *cli, const char *text, enum mu_kind kind,
                    struct mu_addr *addr);

/* Short text for a key when no name is known: "mug1qpzry9x8…ce6m". */
#define MU_CLI_SHORT_KEY_SIZE 24
void mu_cli_short_key(char out[MU_CLI_SHORT_KEY_SIZE], const uint8_t key[MU_KEY_BYTES]);

/*
 * The group's name from its stored profile, else the short key, into out.
 * Returns true when a profile name was found. Must not be called from inside
 * a store visitor.
 */
#define MU_CLI_NAME_SIZE 128
bool mu_cli_group_name(struct mu_cli *cli, const uint8_t key[MU_KEY_BYTES],
                       char out[MU_CLI_NAME_SIZE]);

/* A profile record's name into out, cut on a character boundary to fit;
 * empty when it has none. */
void mu_cli_profile_name(char out[MU_CLI_NAME_SIZE], const struct mu_record *rec);

/*
 * Reads a group given on the command line into key: its whole key, the name
 * of a group known here (one whose records are stored; ASCII case does not
 * matter) or a start of a known key ("mug1gfprgk", at least
 * MU_CLI_KEY_PREFIX_MIN characters). Opens the store read-only for the
 * look-up when nothing of the home is open yet, and closes it again. A name
 * or start that fits several groups is refused, listing them. Prints why on
 * failure and returns the error. what names the option or argument:
 * "--group".
 */
int mu_cli_key_arg(struct mu_cli *cli, uint8_t key[MU_KEY_BYTES], const char *text,
                   const char *what);

/* Makes a str from a NUL-terminated argument (empty means absent). */
struct mu_str mu_cli_str(const char *s);

/* ---- names.c --------------------------------------------------------- */

/* A group known here, for mu_cli_match_groups(). */
struct mu_cli_known {
	uint8_t key[MU_KEY_BYTES];
	char name[MU_CLI_NAME_SIZE]; /* empty when no profile is stored */
};

/* The shortest start of a key taken for the key: "mug1" and 6 more. */
#define MU_CLI_KEY_PREFIX_MIN 10

/*
 * The groups of v[0..n) that text names: those whose name is text (ASCII
 * case folded); when none, those whose key text starts with text, when
 * text is a start of a key of at least MU_CLI_KEY_PREFIX_MIN characters.
 * The first max indexes go to hits; returns how many matched.
 */
size_t mu_cli_match_groups(const struct mu_cli_known *v, size_t n, const char *text,
                           size_t *hits, size_t max);

/* The shortest start of a d taken for our own record's address: "91c2". */
#define MU_CLI_D_PREFIX_MIN 4

/* Whether text may be a start of a d (not an address): at least
 * MU_CLI_D_PREFIX_MIN characters, no '/'. */
bool mu_cli_d_prefix(const char *text);

/* ---- cmd_organizer.c ------------------------------------------------- */

/* Said when a command needs the group's root key and this home lacks it. */
#define MU_CLI_NO_ROOT                                                                 \
	"this home has no root key: run it where the root key is, or give "            \
	"--root-key FILE"

/* Brings the root key into cli->home from root_file (--root-key FILE,
 * may be NULL), or says that this home lacks it: 0 or the error, said. */
int mu_cli_need_root(struct mu_cli *cli, const char *root_file);

/* The machine's host name, cut to size bytes (NUL included) on a UTF-8
 * boundary: an organizer's name until they give one. */
void mu_cli_host_name(char *out, size_t size);

/* The organizer record of key, named name, active: what `organizer add`
 * publishes. rec->d borrows hex. */
#define MU_CLI_KEY_HEX_SIZE (2 * MU_KEY_BYTES + 1)
void mu_cli_organizer_rec(struct mu_record *rec, const uint8_t key[MU_KEY_BYTES],
                          const char *name, char hex[MU_CLI_KEY_HEX_SIZE]);

/* The current organizer record of key in our group, into cur (silent):
 * 0, MU_ENOTFOUND or another error (mu_cli_lookup()). */
int mu_cli_organizer_get(struct mu_cli *cli, const uint8_t key[MU_KEY_BYTES],
                         struct mu_cli_rec *cur);

/*
 * A home that holds the root key but no organizer key (made by an older
 * version, or by `muster init` a moment ago) gets one, and its organizer
 * record (named cli->organizer_name, else the host name) signed by the
 * root is published, so that what the home publishes from then on is
 * signed by the organizer key. Anything else: nothing to do. mu_cli_open()
 * calls it when the secret keys are loaded. Returns 0, or prints why and
 * returns the error.
 */
int mu_cli_organizer_ensure(struct mu_cli *cli);

/* ---- publish.c ------------------------------------------------------- */

/* Fills out with a fresh d: 16 random lowercase hex digits. */
#define MU_CLI_D_SIZE 17
void mu_cli_random_d(char out[MU_CLI_D_SIZE]);

/* Starts a new record of kind at a fresh random d (filled into d, which
 * rec->d borrows); every other field zero. */
void mu_cli_new_rec(struct mu_record *rec, enum mu_kind kind, char d[MU_CLI_D_SIZE]);

/*
 * Completes rec's header (version, group, signer, created_at = the later of
 * cli->now and rec->created_at, so that an edit also wins a created_at tie),
 * signs it with this home's organizer key (an organizer record: with the
 * group's root key, which must be loaded), stores it and prints its address (a delete:
 * its id) as one line on stdout. what names the action for errors: "create event".
 * Returns 0, or prints why and returns the error.
 */
int mu_cli_publish(struct mu_cli *cli, struct mu_record *rec, const char *what);

/* Opens the home to sign, then mu_cli_publish(): for a new record, which
 * was checked against the command line first. */
int mu_cli_open_publish(struct mu_cli *cli, struct mu_record *rec, const char *what);

/* ---- conflict.c -------------------------------------------------------- */

struct mu_store_conflict;

/* `muster show`'s lines for the conflict c of the record shown: who made
 * each edit, what was merged, what was kept of a field both changed. */
void mu_cli_print_conflict(FILE *f, struct mu_cli *cli,
                           const struct mu_store_conflict *c);

/* The conflict c as JSON (a new reference): each edit's rev, id, signer,
 * who ("KEY (NAME)") and changed fields, merged and kept field names. */
struct json_t;
struct json_t *mu_cli_conflict_json(struct mu_cli *cli,
                                    const struct mu_store_conflict *c);

/* `muster status`'s one line for the conflict c. */
void mu_cli_print_conflict_line(FILE *f, struct mu_cli *cli,
                                const struct mu_store_conflict *c);

/*
 * Publishes the merge of each concurrent edit of our group's records that
 * the store holds unmerged (storage/conflict.h), signed as mu_cli_store_new
 * signs. Run when the store is opened to sign, before anything is edited,
 * so that an edit starts from the merge. A failure is noted on stderr, not
 * returned: the command goes on.
 */
void mu_cli_merge_conflicts(struct mu_cli *cli);

/* The same as mu_cli_publish() without printing: the address (or a
 * delete's id) goes to text instead. */
int mu_cli_store_new(struct mu_cli *cli, struct mu_record *rec, const char *what,
                     char text[MU_ADDR_TEXT_SIZE]);

/*
 * Starts the next revision of cur: *rec = cur->rec with rev + 1. The caller
 * applies changes to *rec (which may borrow from cur, so cur must live until
 * the record is published) and publishes it; created_at then becomes the
 * later of now and the old one. Returns 0, or prints why (the highest rev was
 * reached) and returns MU_EINVAL.
 */
int mu_cli_next_rev(const struct mu_cli_rec *cur, struct mu_record *rec);

/* mu_cli_get_current() and mu_cli_next_rev() in one: an edit of the record
 * at addr, which must exist. */
int mu_cli_edit_begin(struct mu_cli *cli, const struct mu_addr *addr,
                      struct mu_cli_rec *cur, struct mu_record *rec);

/* mu_cli_open_own() and mu_cli_edit_begin() in one: an edit of our record
 * of kind at the address text. Returns 0, or prints why and returns the
 * error; on failure cur holds nothing. */
int mu_cli_edit_own(struct mu_cli *cli, const char *text, enum mu_kind kind,
                    struct mu_cli_rec *cur, struct mu_record *rec);

/*
 * An edit of the record at addr when one is current there (as
 * mu_cli_edit_begin(), cur then holds it), else a new record at addr: *rec
 * zeroed but for kind and d, which borrows addr->d, and cur empty. what names
 * the record for errors: "profile". Returns 0, or prints why and returns
 * the error with cur empty.
 */
int mu_cli_edit_or_new(struct mu_cli *cli, const struct mu_addr *addr,
                       struct mu_cli_rec *cur, struct mu_record *rec, const char *what);

/* ---- event_said.c ---------------------------------------------------- */

/*
 * Publishes an event as mu_cli_publish() does, and between the store and
 * the address says on stderr, in words and in zone (NULL: UTC), when it
 * understood the event to be; with default_end, that the end is the
 * default length and how to give another. On a terminal the person reads
 * the time above the address, and a script that keeps stdout still gets the
 * address alone. Returns 0, or prints why and returns the error.
 */
int mu_cli_event_publish(struct mu_cli *cli, struct mu_record *rec, const char *what,
                         const char *zone, bool default_end);

/* ---- zone.c ---------------------------------------------------------- */

/*
 * The node's time zone into out (MU_CLI_ZONE_SIZE bytes, when.h): the one
 * set at init or with `profile set --tz`, else (a home made before, or a
 * zone this machine lacks, which is said on stderr) the machine's, else
 * "UTC". Opens the store read-only for the look-up when nothing of the home
 * is open yet, and closes it again. *zone is then out, or NULL when not
 * even UTC is known here (times are then read and shown in UTC). Returns
 * 0, or prints why the home could not be opened and returns the error.
 */
int mu_cli_node_zone(struct mu_cli *cli, char *out, const char **zone);

/* The machine's zone into out (MU_CLI_ZONE_SIZE bytes), or "UTC" when it
 * has no name (TZ holds a POSIX rule); NULL when not even UTC is known. */
const char *mu_cli_machine_zone(char *out);

/* Stores zone (checked already) as this node's; cli's store must be open
 * for writing. Returns 0, or prints why and returns the error. */
int mu_cli_zone_store(struct mu_cli *cli, const char *zone);

/* Checks a zone given on the command line; prints "WHAT: why" and returns
 * MU_EINVAL when it is not one. what names the option: "--tz". */
int mu_cli_zone_arg(const char *zone, const char *what);

/* ---- print.c --------------------------------------------------------- */

/* One event for `event list`: when (in zone, mu_cli_event_when_in()),
 * title, host, place, CANCELLED, address. host_name is the group's display
 * name. */
void mu_cli_print_event(FILE *f, const struct mu_record *rec, const char *host_name,
                        const char *zone);

/* One cause for `cause list` (zone is unused: the list printers' type). */
void mu_cli_print_cause(FILE *f, const struct mu_record *rec, const char *group_name,
                        const char *zone);

/* Prints first, then s with indent after each line feed, then a line feed:
 * multi-line text under a label. */
void mu_cli_print_indented(FILE *f, const char *first, const char *indent,
                           struct mu_str s);

/* What a node knows to call the keys and addresses a record names: a
 * group's name, and what the record at an address is called ("Rent strike,
 * by Harbour Tenants"). Each fills out and returns true, or returns false
 * when it knows no name. */
struct mu_cli_names {
	bool (*group)(void *ctx, const uint8_t key[MU_KEY_BYTES],
	              char out[MU_CLI_NAME_SIZE]);
	bool (*addr)(void *ctx, const struct mu_addr *addr, char *out, size_t n);
	void *ctx;
};

/* Every header and content field of a record, for `show`, with the name
 * names gives next to each group key and each address (names may be NULL:
 * keys alone). */
void mu_cli_print_record(FILE *f, const struct mu_cli_names *names,
                         const struct mu_record *rec);

/* Writes "2026-12-05 18:00 CET" style text for an event's start (and end)
 * in its zone, for lists and show. */
#define MU_CLI_WHEN_TEXT_SIZE 208 /* the widest mu_cli_event_when_in() writes */
void mu_cli_event_when(char out[MU_CLI_WHEN_TEXT_SIZE], const struct mu_event *ev);

/* The same in the zone view (NULL: UTC) for lists, without abbreviations,
 * and the event's own times and zone beside them where its zone's clock
 * reads otherwise: "Thu 2030-12-05 19:00-21:00 (18:00-20:00 Europe/London)".
 * All-day events as mu_cli_event_when() writes them. */
void mu_cli_event_when_in(char out[MU_CLI_WHEN_TEXT_SIZE], const struct mu_event *ev,
                          const char *view);

/* ---- cmd_peer.c: peers, shared with status ---------------------------- */

struct mu_peer; /* storage/local.h */

/* The peers table copied out of the store. */
struct mu_cli_peers {
	struct mu_peer *v;
	size_t n, cap;
};

/* Reads every peer into *out (freed with mu_cli_peers_free()). Returns 0,
 * or prints why and returns the error. */
int mu_cli_peers_load(struct mu_cli *cli, struct mu_cli_peers *out);
void mu_cli_peers_free(struct mu_cli_peers *l);

/* Whether `muster serve` runs for this home: 1 (info gets its listen
 * address), 0, or, after printing why, a negative error. */
int mu_cli_daemon(struct mu_cli *cli, char *info, size_t cap);

/* Prints how other nodes reach this one (reach.c): "reach:" lines for an
 * onion service, a port the router maps (running: while the daemon runs),
 * the announced addresses, or "dial-out only". 0, or prints why and
 * returns the error. The store must be open. */
int mu_cli_print_reach(struct mu_cli *cli, bool running);

/* Checks a HOST:PORT argument; prints why and returns MU_CLI_EUSAGE when it
 * is not one. what names the command or option: "--listen". */
int mu_cli_addr_arg(const char *addr, const char *what);

/* Checks the HOST:PORT [KEY] arguments (nargs of them) of `peer add` and
 * `sync`: with KEY, it goes into key and *expect points to key; without,
 * *expect is NULL. Returns 0, or prints why and returns the error. */
int mu_cli_peer_args(struct mu_cli *cli, const char **args, size_t nargs,
                     const char *what, uint8_t key[MU_KEY_BYTES],
                     const uint8_t **expect);

/* ---- acts_out.c ------------------------------------------------------ */

/* A petition, pledge or event with its coalition total and each group's
 * part, as text in zone (NULL: UTC). 0, or prints why and returns it. */
int mu_cli_acts_print(struct mu_cli *cli, FILE *f, const struct mu_record *rec,
                      const char *zone);

/* What `petition list` and `pledge list` differ in. */
struct mu_cli_acts_cmd {
	const char *name; /* "petition list" */
	const char *help;
	enum mu_kind kind;
	const char *none; /* printed when there are none */
};

/* `petition list`, `pledge list` [--group KEY] [--json]: every current
 * record of cmd->kind (of one group, or all), as text or a JSON array. */
int mu_cli_acts_list(struct mu_cli *cli, int argc, char **argv,
                     const struct mu_cli_acts_cmd *cmd);

/* Applies a command's options (opts, its own struct) over rec; cause is
 * storage for a --cause address the record may borrow. 0, or prints why. */
typedef int (*mu_cli_acts_apply_fn)(struct mu_cli *cli, struct mu_record *rec,
                                    const void *opts, struct mu_addr *cause);

/* `petition edit`, `petition close`, `pledge edit`: a new revision of the
 * group's own record of kind at address text, with apply(opts) over the
 * current one, published as what ("edit pledge"). */
int mu_cli_acts_edit(struct mu_cli *cli, const char *text, enum mu_kind kind,
                     mu_cli_acts_apply_fn apply, const void *opts, const char *what);

/* A WHEN option (--deadline, --start, --end) of `petition` and `pledge`
 * into *t, read in the node's zone; "" clears *has (when has is not NULL).
 * NULL text leaves both. 0, or prints why and returns it. */
int mu_cli_acts_time_opt(struct mu_cli *cli, const char *opt, const char *text,
                         int64_t *t, bool *has);

/* --cause ADDR into *cause (buf holds the parsed address the record
 * borrows), "" clears *has, NULL leaves both. 0, or prints why. */
int mu_cli_acts_cause_opt(const char *text, struct mu_addr *buf, struct mu_addr *cause,
                          bool *has);

/* `petition sign`, `pledge commit` (acts_out.c): the group's own act
 * on the target at address text set (as_group 1), cleared (0) or kept as
 * it is (-1), keeping its count of people unless count_text (--count)
 * gives one. Prints what it did. */
int mu_cli_acts_group_act(struct mu_cli *cli, const char *text,
                          enum mu_kind target_kind, int as_group,
                          const char *count_text);

/* ---- commands -------------------------------------------------------- */

/* ---- cmd_node.c --------------------------------------------------------- */

struct mu_node_opts; /* node/node.h */

/* Checks a --network NAME (docs/PROTOCOL.md 9.1); prints why and returns
 * MU_CLI_EUSAGE when it is not one. */
int mu_cli_network_arg(const char *name);

/* The options of a one-shot sync (`sync`, `join`): no listening, no HTTP,
 * network (NULL: the default) and --log-level level (may be NULL), with
 * MUSTER_LIMITS and the test knobs. 0, or prints why and returns the
 * error. */
int mu_cli_sync_opts(struct mu_cli *cli, struct mu_node_opts *o, const char *network,
                     const char *level);

/* ---- cmd_ally.c --------------------------------------------------------- */

/* Proposes the alliance with group with (terms may be NULL), as `ally add`
 * does, on a home opened with MU_CLI_SECRET; an alliance already proposed
 * is left as it is (*proposed false). 0, or prints why. */
int mu_cli_ally_propose(struct mu_cli *cli, const uint8_t with[MU_KEY_BYTES],
                        const char *terms, bool *proposed);

int mu_cli_cmd_init(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_key(struct mu_cli *cli, int argc, char **argv);
/* `muster key offline` (cmd_key_offline.c), a subcommand of `key`. */
int mu_cli_cmd_key_offline(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_organizer(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_id(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_status(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_profile(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_cause(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_petition(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_pledge(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_rsvp(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_event(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_ally(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_show(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_delete(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_export(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_import(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_serve(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_sync(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_peer(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_follow(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_block(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_unblock(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_unfollow(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_check(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_backup(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_restore(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_invite(struct mu_cli *cli, int argc, char **argv);
int mu_cli_cmd_join(struct mu_cli *cli, int argc, char **argv);

/* ---- cmd_entries.c ----------------------------------------------------- */

/* `muster link`: the member link, and whether posting needs it. */
int mu_cli_cmd_link(struct mu_cli *cli, int argc, char **argv);

/* `muster rsvp list EVENT` and `muster rsvp remove EVENT POSITION`: the
 * replies people gave on this node's pages (subcommands in cmd_rsvp.c). */
int mu_cli_rsvp_list(struct mu_cli *cli, int argc, char **argv);
int mu_cli_rsvp_remove(struct mu_cli *cli, int argc, char **argv);
/* The same for petitions and pledges (cmd_petition.c, cmd_pledge.c):
 * `petition signatures|remove`, `pledge list PLEDGE`, `pledge remove`. */
int mu_cli_petition_signatures(struct mu_cli *cli, int argc, char **argv);
int mu_cli_petition_remove(struct mu_cli *cli, int argc, char **argv);
int mu_cli_pledge_entries(struct mu_cli *cli, int argc, char **argv);
int mu_cli_pledge_remove(struct mu_cli *cli, int argc, char **argv);

#endif
