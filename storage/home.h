/*
 * home.h - a node's home directory: its group key and its store.
 *
 *   HOME/            mode 0700
 *   HOME/group.key   the 32-byte Ed25519 seed, raw, mode 0600
 *   HOME/store/      the LMDB environment (store.h)
 *
 * The secret key is read into sodium_malloc() memory, never copied out of
 * it, and wiped by mu_home_close(). A key file that group or others can read
 * or write is refused (MU_EPERM) with the chmod that fixes it in why.
 */
#ifndef MU_HOME_H
#define MU_HOME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../protocol/record.h"

struct mu_home {
	char *dir;                   /* owned, malloc()ed */
	uint8_t group[MU_KEY_BYTES]; /* the group's public key */
	uint8_t *secret;             /* the root's: MU_SECRET_BYTES in sodium_malloc()
	                                memory, read-only when not in use; NULL if not
	                                loaded */
	bool has_root;               /* group.key is in this home */
	bool has_organizer;          /* organizer.key is: organizer is set */
	uint8_t organizer[MU_KEY_BYTES]; /* this home's organizer public key */
	uint8_t *org_secret; /* the organizer's, like secret; NULL if not loaded */
};

/*
 * Creates a new home at dir: the directory (and missing parents), a fresh
 * group key and an empty store. Fails with MU_EEXIST when dir already holds a
 * key file, so a key is never overwritten. The public key goes to group.
 */
int mu_home_create(const char *dir, uint8_t group[MU_KEY_BYTES], struct mu_why *why);

/*
 * Creates a home at dir as mu_home_create() does, but around an existing
 * group key: seed is its 32-byte Ed25519 seed (the caller's sodium_malloc()
 * memory; read, not kept). A home that holds this very key and no store
 * (its store lost) gets a new, empty store, and its key file is left as it
 * is. MU_EEXIST when dir has a store already or holds another key.
 */
int mu_home_restore_key(const char *dir, const uint8_t *seed,
                        uint8_t group[MU_KEY_BYTES], struct mu_why *why);

/*
 * Reads a saved group key file (the 32-byte seed, as HOME/group.key holds
 * it, in any mode) into seed, MU_HOME_SEED_BYTES of the caller's
 * sodium_malloc() memory. MU_ENOTFOUND when there is no such file,
 * MU_ECORRUPT when it is not 32 bytes long.
 */
int mu_home_read_seed(const char *path, uint8_t *seed, struct mu_why *why);

/*
 * Writes seed (MU_HOME_SEED_BYTES) to a new key file at path, mode 0600, as
 * a home's group.key is written. MU_EEXIST when path exists: a key file is
 * never replaced.
 */
int mu_home_write_seed(const char *path, const uint8_t *seed, struct mu_why *why);

/* Whether the home at dir has a store (HOME/store/data.mdb). */
bool mu_home_has_store(const char *dir);

/* The seed of a loaded secret key: the first 32 bytes of home->secret. */
#define MU_HOME_SEED_BYTES 32

/*
 * Opens an existing home. With load_secret the secret key is loaded too
 * (checking the file's mode); otherwise only the public key is derived and
 * the secret is wiped at once. MU_ENOTFOUND when there is no home at dir.
 * The caller owns *out and frees it with mu_home_close().
 */
int mu_home_open(struct mu_home **out, const char *dir, bool load_secret,
                 struct mu_why *why);

/* Wipes the secret key and frees the home. NULL is allowed. */
void mu_home_close(struct mu_home *home);

/* Wipes the secret keys now (secret and org_secret become NULL), for a
 * long-running process that no longer needs them: the daemon after its
 * start. */
void mu_home_forget_secret(struct mu_home *home);

/* --- the organizer key and the root key (home_keys.c) --------------------- */

/*
 * Creates this home's organizer key, HOME/organizer.key, and loads it
 * (organizer, org_secret). MU_EEXIST when the home has one already.
 */
int mu_home_organizer_create(struct mu_home *home, struct mu_why *why);

/*
 * Creates a home for a group whose root key is elsewhere: the directory,
 * group.pub holding group, a new organizer key and an empty store. MU_EEXIST
 * when dir is a home already. The organizer's public key goes to organizer.
 */
int mu_home_join(const char *dir, const uint8_t group[MU_KEY_BYTES],
                 uint8_t organizer[MU_KEY_BYTES], struct mu_why *why);

/*
 * Loads the root key from a key file kept outside the home (the 32-byte
 * seed, as group.key holds it, in any mode) into home->secret. MU_EINVAL
 * when it is another group's key.
 */
int mu_home_load_root(struct mu_home *home, const char *path, struct mu_why *why);

/*
 * Moves the root key out of the home: writes its seed to a new file at path
 * (mode 0600; MU_EEXIST when path exists), writes group.pub, then removes
 * group.key. The root key must be loaded.
 */
int mu_home_key_offline(struct mu_home *home, const char *path, struct mu_why *why);

/* The store's directory for this home, malloc()ed; NULL when out of memory. */
char *mu_home_store_dir(const struct mu_home *home);

/*
 * The node's Noise static key (X25519), HOME/noise.key, 32 raw bytes, mode
 * 0600, created on first use. It is distinct from the group key: it only
 * identifies this machine's connections. secret (32 bytes) must be
 * sodium_malloc() memory of the caller's.
 */
int mu_home_noise_key(const struct mu_home *home, uint8_t *secret, struct mu_why *why);

/*
 * Takes the serve lock, HOME/serve.lock (flock), so one daemon runs per home,
 * and writes info (one line: the listen address) into it. MU_EBUSY with why
 * when another daemon holds it. *fd is kept open while serving.
 */
int mu_home_lock_serve(const struct mu_home *home, const char *info, int *fd,
                       struct mu_why *why);

/* Releases the lock (closing fd) and empties the file. */
void mu_home_unlock_serve(const struct mu_home *home, int fd);

/*
 * Whether a daemon serves this home: 1 (info gets its line), 0, or a
 * negative error.
 */
int mu_home_serve_running(const struct mu_home *home, char *info, size_t cap);

/*
 * The wake socket, HOME/serve.wake (home_wake.c): the running daemon binds
 * it, and a command that stored records sends to it, so that the daemon
 * reads the store log at once instead of at its next poll.
 *
 * mu_home_wake_bind, under the serve lock, replaces a killed daemon's
 * socket with a new one, mode 0600; *fd (non-blocking) is the caller's,
 * until mu_home_wake_close(), still under the lock, removes the file and
 * closes it. mu_home_wake_drain reads what fd holds, at most a few dozen
 * datagrams a call, and returns how many came from this user (others are
 * dropped). mu_home_wake, best effort, never blocks and never fails: with
 * no daemon, or a killed one's socket, it returns at once.
 */
int mu_home_wake_bind(const struct mu_home *home, int *fd, struct mu_why *why);
void mu_home_wake_close(const struct mu_home *home, int fd);
int mu_home_wake_drain(int fd);
void mu_home_wake(const struct mu_home *home);

/*
 * The connections of the running daemon, HOME/serve.conns, so that
 * `muster status` can show them: text the daemon writes whole (replacing the
 * file atomically) whenever a connection completes its handshake or ends.
 * mu_home_read_conns returns the text malloc()ed (the caller frees it), or
 * NULL when there is none or it cannot be read.
 */
int mu_home_write_conns(const struct mu_home *home, const char *text,
                        struct mu_why *why);
char *mu_home_read_conns(const struct mu_home *home);

/*
 * Calls fn for each connection line of HOME/serve.conns ("ADDR\tKEY\tHOW",
 * HOW "dialed" or "accepted"), skipping lines it cannot read; stops at a
 * nonzero return, which it returns. 0 when there is no file.
 */
typedef int (*mu_home_conn_fn)(void *ctx, const char *addr,
                               const uint8_t key[MU_KEY_BYTES], bool dialed);
int mu_home_conns_each(const struct mu_home *home, mu_home_conn_fn fn, void *ctx);

/*
 * When the daemon was last connected to a node proving each group's key,
 * whichever side dialed (HOME/serve.seen, "KEY\tUNIX-TIME" lines): the
 * daemon raises a group's time when a connection to it completes its
 * handshake or another connection changes, and the HTTP pages and `peer
 * list` read it. _read returns the entries malloc()ed in *v (NULL, 0 when
 * there is none); _write replaces the file, keeping the newest
 * MU_HOME_SEEN_MAX entries.
 */
#define MU_HOME_SEEN_MAX 4096

struct mu_home_seen {
	uint8_t key[MU_KEY_BYTES];
	int64_t at;
};

int mu_home_read_seen(const struct mu_home *home, struct mu_home_seen **v, size_t *n);
int mu_home_write_seen(const struct mu_home *home, struct mu_home_seen *v, size_t n,
                       struct mu_why *why);

/* The same for any such file, HOME/name: replaced whole (atomically), read
 * whole (malloc()ed text, NULL when absent, unreadable or over 1 MiB). */
int mu_home_write_state(const struct mu_home *home, const char *name, const char *text,
                        struct mu_why *why);
char *mu_home_read_state(const struct mu_home *home, const char *name);

/* --- Tor (home_tor.c) ----------------------------------------------------- */

/*
 * `serve --tor` keeps tor's files in HOME/tor/: data/ (tor's DataDirectory),
 * onion_key, hostname ("NAME.onion", for `invite` and `status`) and state
 * (tor's progress, for `status`; mu_home_read_state(home, MU_HOME_TOR_STATE)).
 */
#define MU_HOME_TOR_HOSTNAME "tor/hostname"
#define MU_HOME_TOR_STATE    "tor/state"

/* Creates HOME/tor/ and HOME/tor/data/ (0700) when missing; returns the path
 * of HOME/tor malloc()ed, or NULL with why. */
char *mu_home_tor_dirs(const struct mu_home *home, struct mu_why *why);

/*
 * The onion service's secret key, HOME/tor/onion_key: the 64-byte expanded
 * Ed25519 secret tor makes for a v3 onion service (its ED25519-V3 key blob,
 * decoded), 0600, apart from the group's keys. Whoever holds it can run
 * this node's onion address. _read: MU_ENOTFOUND (why untouched) when there
 * is none yet. _write: creates the file, never replacing one (MU_EEXIST).
 */
#define MU_HOME_ONION_KEY_BYTES 64
int mu_home_read_onion_key(const struct mu_home *home,
                           uint8_t key[MU_HOME_ONION_KEY_BYTES], struct mu_why *why);
int mu_home_write_onion_key(const struct mu_home *home,
                            const uint8_t key[MU_HOME_ONION_KEY_BYTES],
                            struct mu_why *why);

/* --- the clock (home_clock.c) -------------------------------------------- */

/*
 * The wall clock, Unix seconds, as every record's created_at and the future
 * rule read it. For tests only, MUSTER_TEST_CLOCK_SKEW (a whole number of
 * seconds, negative for a slow clock) is added to it, to play a machine
 * whose clock is off without touching the system's.
 */
int64_t mu_home_now(void);

/* Seconds since this machine booted (CLOCK_BOOTTIME): never stepped, so
 * what peers said of our clock stays true when the wall clock is set. */
int64_t mu_home_boot_clock(void);

/* A clock this many seconds from its peers' is reported as off (status,
 * the daemon's log). */
#define MU_HOME_CLOCK_OFF 60
/* Peers that must have said it before the commands believe that our clock,
 * and not theirs, is the wrong one, and refuse to sign: with one peer,
 * either clock may be. */
#define MU_HOME_CLOCK_SURE 2

/*
 * What peers said of this node's clock, HOME/serve.clock, written by the
 * daemon: base is the peers' clock (the median of those that said it)
 * minus mu_home_boot_clock(), from npeers peers.
 */
int mu_home_write_clock(const struct mu_home *home, int64_t base, unsigned npeers,
                        struct mu_why *why);

/*
 * How far the peers' clocks are from ours at now (mu_home_now()): *offset is
 * their clock minus ours, negative when ours is ahead. 0, or MU_ENOTFOUND
 * when no peer said it since this machine booted (what was said before a
 * reboot tells nothing of a clock that may have been reset).
 */
int mu_home_read_clock(const struct mu_home *home, int64_t now, int64_t *offset,
                       unsigned *npeers);

/* How far off a clock is, for messages: "11 minutes ahead of" or "40 seconds
 * behind" (offset as mu_home_read_clock() gives it), to be followed by "its
 * peers'". */
#define MU_HOME_CLOCK_PHRASE_SIZE 48
void mu_home_clock_phrase(char *out, size_t size, int64_t offset);

#endif
