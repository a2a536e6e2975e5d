/*
 * wake.c - the daemon's side of HOME/serve.wake (internal.h,
 * storage/home.h): a command that stored records wakes the daemon, which
 * pushes them at once instead of at its next poll (limits.poll_ms), the
 * first hop of every event published with the CLI.
 *
 * The poll stays: a wake that is lost (a full queue, a command killed
 * between its commit and its wake) waits for it, as every record did
 * before. Wakes that came together are one push: the drain reads them all.
 */
#include "internal.h"

static void
on_wake(uv_poll_t *h, int status, int events)
{
	struct mu_node *node = h->data;
	uv_os_fd_t fd;

	(void)events;
	if (status < 0 || uv_fileno((uv_handle_t *)h, &fd) != 0)
		return;
	if (mu_home_wake_drain(fd) > 0)
		mu_sync_wake(node);
}

static void
no_wake(struct mu_node *node, const char *why)
{
	mu_node_log(node, MU_LOG_WARN,
	            "records stored by commands wait for the next poll: %s", why);
}

void
mu_node_wake_start(struct mu_node *node, uv_poll_t *h, int *fd)
{
	struct mu_why why = {0};
	int rc;

	if ((rc = mu_home_wake_bind(node->home, fd, &why)) != 0) {
		no_wake(node, mu_why_or(&why, rc));
		return;
	}
	/* Once initialised, h is closed with the loop's other handles. */
	if ((rc = uv_poll_init(node->loop, h, *fd)) != 0) {
		no_wake(node, uv_strerror(rc));
		return;
	}
	h->data = node;
	if ((rc = uv_poll_start(h, UV_READABLE, on_wake)) != 0)
		no_wake(node, uv_strerror(rc));
}
