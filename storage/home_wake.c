/*
 * home_wake.c - HOME/serve.wake (home.h): a unix datagram socket that the
 * running daemon binds, so that a command that stored records can tell it
 * to read the store log now rather than at its next poll.
 *
 * A datagram carries nothing but the fact that it came: whatever it holds,
 * the daemon only reads its store log, which it does anyway every poll. So
 * the socket is mode 0600, and a datagram from another user is dropped
 * unread (its sender's credentials, SO_PASSCRED). Sending never blocks and
 * never fails the command: a socket left by a killed daemon refuses at once
 * (ECONNREFUSED), a daemon whose queue is full has a wake pending anyway.
 */
#define _GNU_SOURCE /* struct ucred */
#include "home.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "home_file.h"

#define WAKE_FILE "serve.wake"
/* Datagrams read in one call: a sender that never stops cannot hold the
 * daemon in the drain. */
#define DRAIN_MAX 64

/*
 * HOME/serve.wake as a socket address. A home whose path does not fit in
 * sun_path is named through a descriptor of its directory,
 * /proc/self/fd/N/serve.wake; *dfd holds it (else -1), the caller closes it.
 */
static int
wake_addr(const char *dir, struct sockaddr_un *sa, socklen_t *len, int *dfd)
{
	size_t n = strlen(dir) + 1 + strlen(WAKE_FILE);
	int w;

	*dfd = -1;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (n < sizeof(sa->sun_path)) {
		w = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", dir,
		             WAKE_FILE);
	} else {
		*dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (*dfd < 0)
			return MU_EIO;
		w = snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s",
		             *dfd, WAKE_FILE);
	}
	if (w < 0 || (size_t)w >= sizeof(sa->sun_path))
		return MU_EINVAL;
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)w + 1);
	return 0;
}

int
mu_home_wake_bind(const struct mu_home *home, int *fd, struct mu_why *why)
{
	struct sockaddr_un sa;
	socklen_t len;
	int sfd = -1, dfd = -1, one = 1, err;

	*fd = -1;
	if ((err = wake_addr(home->dir, &sa, &len, &dfd)) != 0) {
		err = mu_fail(why, err, "cannot name %s/%s", home->dir, WAKE_FILE);
		goto out;
	}
	sfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* On Linux the file bind() makes takes the socket's mode: no moment
	 * when another user could open it. */
	if (sfd < 0 ||
	    setsockopt(sfd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) != 0 ||
	    fchmod(sfd, 0600) != 0) {
		err = mu_fail(why, MU_EIO, "cannot make the wake socket: %s",
		              strerror(errno));
		goto out;
	}
	/* A killed daemon's socket is left behind; the serve lock, which the
	 * caller holds, says that no daemon uses it. */
	if (unlink(sa.sun_path) != 0 && errno != ENOENT) {
		err = mu_fail(why, MU_EIO, "cannot remove the old %s/%s: %s", home->dir,
		              WAKE_FILE, strerror(errno));
		goto out;
	}
	if (bind(sfd, (struct sockaddr *)&sa, len) != 0) {
		err = mu_fail(why, MU_EIO, "cannot bind %s/%s: %s", home->dir,
		              WAKE_FILE, strerror(errno));
		goto out;
	}
	*fd = sfd;
	sfd = -1;
out:
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	return err;
}

void
mu_home_wake_close(const struct mu_home *home, int fd)
{
	struct sockaddr_un sa;
	socklen_t len;
	int dfd;

	if (fd < 0)
		return;
	/* Left behind when it cannot go, the next daemon removes it, and
	 * until then a wake is refused at once. */
	if (wake_addr(home->dir, &sa, &len, &dfd) == 0)
		(void)unlink(sa.sun_path);
	if (dfd >= 0)
		close(dfd);
	close(fd);
}

/* Whether the datagram m came from a process of this user. Descriptors
 * sent with it are closed, so that none accumulates in the daemon. */
static bool
from_us(struct msghdr *m)
{
	struct cmsghdr *c;
	struct ucred uc;
	bool us = false;
	int sent;

	for (c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_RIGHTS) {
			for (size_t k = 0;
			     CMSG_LEN((k + 1) * sizeof(sent)) <= c->cmsg_len; k++) {
				memcpy(&sent, CMSG_DATA(c) + k * sizeof(sent),
				       sizeof(sent));
				close(sent);
			}
		} else if (c->cmsg_type == SCM_CREDENTIALS &&
		           c->cmsg_len >= CMSG_LEN(sizeof(uc))) {
			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			us = uc.uid == geteuid();
		}
	}
	return us;
}

int
mu_home_wake_drain(int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct msghdr m;
	struct iovec iov;
	char byte;
	int wakes = 0;

	for (int i = 0; i < DRAIN_MAX; i++) {
		iov = (struct iovec){&byte, 1};
		memset(&m, 0, sizeof(m));
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = ctl.buf;
		m.msg_controllen = sizeof(ctl.buf);
		if (recvmsg(fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (from_us(&m))
			wakes++;
	}
	return wakes;
}

void
mu_home_wake(const struct mu_home *home)
{
	struct sockaddr_un sa;
	socklen_t len;
	int sfd, dfd;

	if (wake_addr(home->dir, &sa, &len, &dfd) != 0)
		goto out;
	sfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sfd < 0)
		goto out;
	/* A failure is no matter: no daemon (ENOENT), a killed one's socket
	 * (ECONNREFUSED), a full queue (EAGAIN, a wake is pending); the
	 * daemon's poll is the fallback. */
	(void)sendto(sfd, "w", 1, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sa,
	             len);
	close(sfd);
out:
	if (dfd >= 0)
		close(dfd);
}
