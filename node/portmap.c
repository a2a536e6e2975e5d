/*
 * portmap.c - `muster serve --map-port` (internal.h, "port mapping"): asks
 * the home router to forward the node's listen port, NAT-PMP first
 * (libnatpmp), then UPnP-IGD (libminiupnpc).
 *
 *   - Both libraries block (UDP retries, SSDP discovery, SOAP over HTTP):
 *     each request runs on the libuv thread pool, one at a time; the loop
 *     thread only reads its result in the after-callback.
 *   - A router whose external address is private or carrier-grade NAT
 *     (or which says it has no public address, as miniupnpd does then) is
 *     behind another NAT: a mapping there serves no one outside, so none
 *     is made, with one error line pointing to --tor.
 *   - The lease is renewed at half of what the router granted; a failed
 *     request is tried again after limits.map_retry_s. At stop the mapping
 *     is removed before the loop ends (the daemon's uv_run waits for it).
 *   - What happened goes to the home's serve.mapped for `muster status`
 *     (storage/home.h, mu_home_write_state): one line, "mapped\tIP:PORT\t
 *     PROTOCOL", "refused\tWHY" or "failed\tWHY"; empty once stopped.
 *   - With opts.announce_auto, the mapped IP:PORT is announced after the
 *     --announce addresses, and the node record republished when it
 *     changes.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>

#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>
#include <natpmp.h>

#include "addr.h"
#include "internal.h"

#define STATE_FILE          "serve.mapped"
#define NATPMP_BUDGET       4000 /* ms of retries before NAT-PMP counts as absent */
#define SSDP_WAIT_MS        2000 /* UPnP discovery */
#define URL_MAX             512
#define SERVICE_MAX         256
#define DESCRIPTION         "muster"
#define UPNP_ONLY_PERMANENT 725 /* OnlyPermanentLeasesSupported */

enum op { OP_MAP, OP_UNMAP };
enum via { VIA_NONE, VIA_NATPMP, VIA_UPNP };

/* What a request on the thread pool reads and writes; the loop thread
 * touches it only while no request runs. */
struct job {
	enum op op;
	uint16_t port;    /* internal port, and the external one asked for */
	unsigned lease_s; /* asked for */
	int rc;           /* 0, MU_EPERM (refused: not public), MU_ENOTFOUND
	                     (no router answered), MU_EIO */
	char why[MU_WHY_MAX];
	enum via via; /* the mapping held (OP_UNMAP: the one to remove) */
	char ext_ip[MU_NODE_IP_MAX];
	uint16_t ext_port;
	unsigned granted_s; /* lease the router granted; 0: permanent */
	char control_url[URL_MAX], service[SERVICE_MAX]; /* UPnP, to remove */
};

struct mu_portmap {
	struct mu_node *node;
	uv_timer_t timer;
	uv_work_t work;
	struct job job;
	bool busy;     /* a request runs on the thread pool */
	bool stopping; /* mu_portmap_stop() was called */
	bool timer_closed;
	size_t auto_index; /* where the mapped address goes in opts.announce */
	char mapped[MU_NODE_IP_MAX + 8]; /* "IP:PORT" held now, "" none */
	char said[MU_WHY_MAX];           /* the last failure logged */
};

/* --- on the thread pool ------------------------------------------------- */

static uint64_t
ms_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

/* Waits for the answer to the request just sent, retrying as libnatpmp
 * does, for NATPMP_BUDGET ms at most (its own schedule lasts minutes). */
static int
natpmp_wait(natpmp_t *n, natpmpresp_t *resp)
{
	uint64_t start = ms_now();
	int rc;

	do {
		struct timeval tv;
		fd_set fds;

		FD_ZERO(&fds);
		FD_SET(n->s, &fds);
		if (getnatpmprequesttimeout(n, &tv) != 0)
			return NATPMP_ERR_GETTIMEOFDAYERR;
		select(n->s + 1, &fds, NULL, NULL, &tv);
		rc = readnatpmpresponseorretry(n, resp);
	} while (rc == NATPMP_TRYAGAIN && ms_now() - start < NATPMP_BUDGET);
	return rc == NATPMP_TRYAGAIN ? NATPMP_ERR_NOGATEWAYSUPPORT : rc;
}

static const char *
natpmp_text(int rc)
{
	switch (rc) {
	case NATPMP_ERR_CANNOTGETGATEWAY:
		return "no default gateway";
	case NATPMP_ERR_NOGATEWAYSUPPORT:
		return "no answer from the gateway";
	case NATPMP_ERR_RECVFROM:
		return "the gateway refused (no NAT-PMP service)";
	case NATPMP_ERR_NOTAUTHORIZED:
		return "the router refused: not authorized";
	case NATPMP_ERR_NETWORKFAILURE:
		return "the router has no public address";
	case NATPMP_ERR_OUTOFRESOURCES:
		return "the router is out of mappings";
	default:
		return "the router did not answer as expected";
	}
}

/* A router's external address that cannot serve a mapping: job->rc and
 * job->why say so. */
static bool
refuse_private(struct job *job, const char *ip)
{
	const char *what = mu_node_addr_not_public(ip);

	if (what == NULL)
		return false;
	job->rc = MU_EPERM;
	snprintf(job->why, sizeof(job->why),
	         "the router's external address %s is %s, so a port mapped there "
	         "cannot be reached from the internet; no mapping made (use --tor "
	         "to be reachable without one)",
	         ip, what);
	return true;
}

/* NAT-PMP: the router's public address, then the mapping (lease 0
 * removes it). 0, or a libnatpmp code. */
static int
natpmp_map(struct job *job, unsigned lease)
{
	natpmpresp_t resp;
	natpmp_t n;
	int rc;

	if ((rc = initnatpmp(&n, 0, 0)) < 0)
		return rc;
	if (lease > 0) {
		rc = sendpublicaddressrequest(&n);
		if (rc >= 0)
			rc = natpmp_wait(&n, &resp);
		if (rc < 0)
			goto out;
		inet_ntop(AF_INET, &resp.pnu.publicaddress.addr, job->ext_ip,
		          sizeof(job->ext_ip));
		if (refuse_private(job, job->ext_ip)) {
			rc = 0;
			goto out;
		}
	}
	rc = sendnewportmappingrequest(&n, NATPMP_PROTOCOL_TCP, job->port,
	                               lease > 0 ? job->port : 0, lease);
	if (rc >= 0)
		rc = natpmp_wait(&n, &resp);
	if (rc >= 0 && lease > 0) {
		job->ext_port = resp.pnu.newportmapping.mappedpublicport;
		job->granted_s = resp.pnu.newportmapping.lifetime;
		job->via = VIA_NATPMP;
		rc = 0;
	}
out:
	closenatpmp(&n);
	return rc < 0 ? rc : 0;
}

/* UPnP-IGD: discovery, the external address, then the mapping. */
static void
upnp_map(struct job *job, const char *natpmp_said)
{
	char lan[64] = "", ext[40] = "", port[8], lease[16];
	struct UPNPDev *devs;
	struct UPNPUrls urls;
	struct IGDdatas data;
	int err = 0, igd, rc;

	devs = upnpDiscover(SSDP_WAIT_MS, NULL, NULL, UPNP_LOCAL_PORT_ANY, 0, 2, &err);
#if MINIUPNPC_API_VERSION >= 18
	igd = devs == NULL
	          ? 0
	          : UPNP_GetValidIGD(devs, &urls, &data, lan, sizeof(lan), NULL, 0);
#else
	igd = devs == NULL ? 0 : UPNP_GetValidIGD(devs, &urls, &data, lan, sizeof(lan));
#endif
	freeUPNPDevlist(devs);
	if (igd == 0) {
		job->rc = MU_ENOTFOUND;
		snprintf(job->why, sizeof(job->why),
		         "no router answered: NAT-PMP: %s; UPnP-IGD: no device found "
		         "(is UPnP or NAT-PMP turned on in the router?)",
		         natpmp_said);
		return;
	}
	rc = UPNP_GetExternalIPAddress(urls.controlURL, data.first.servicetype, ext);
	if (rc != UPNPCOMMAND_SUCCESS || ext[0] == '\0' ||
	    strcmp(ext, "0.0.0.0") == 0) {
		job->rc = MU_EPERM;
		snprintf(job->why, sizeof(job->why),
		         "the router has no public address: it is behind another "
		         "NAT, private or carrier-grade, so a port mapped there "
		         "cannot be reached from the internet; no mapping made (use "
		         "--tor to be reachable without one)");
		goto out;
	}
	snprintf(job->ext_ip, sizeof(job->ext_ip), "%s", ext);
	if (refuse_private(job, ext))
		goto out;
	snprintf(port, sizeof(port), "%u", (unsigned)job->port);
	snprintf(lease, sizeof(lease), "%u", job->lease_s);
	rc = UPNP_AddPortMapping(urls.controlURL, data.first.servicetype, port, port,
	                         lan, DESCRIPTION, "TCP", NULL, lease);
	if (rc == UPNP_ONLY_PERMANENT) {
		snprintf(lease, sizeof(lease), "0");
		rc = UPNP_AddPortMapping(urls.controlURL, data.first.servicetype, port,
		                         port, lan, DESCRIPTION, "TCP", NULL, lease);
	}
	if (rc != UPNPCOMMAND_SUCCESS) {
		job->rc = MU_EIO;
		snprintf(job->why, sizeof(job->why),
		         "the router refused the mapping of port %s to %s (UPnP-IGD "
		         "error %d: %s)",
		         port, lan, rc, strupnperror(rc));
		goto out;
	}
	job->via = VIA_UPNP;
	job->ext_port = job->port;
	job->granted_s = (unsigned)strtoul(lease, NULL, 10);
	snprintf(job->control_url, sizeof(job->control_url), "%s", urls.controlURL);
	snprintf(job->service, sizeof(job->service), "%s", data.first.servicetype);
out:
	FreeUPNPUrls(&urls);
}

static void
do_map(struct job *job)
{
	int rc;

	job->rc = 0;
	job->why[0] = '\0';
	rc = natpmp_map(job, job->lease_s);
	if (rc == 0)
		return; /* mapped, or refused with the address */
	upnp_map(job, natpmp_text(rc));
}

static void
do_unmap(struct job *job)
{
	char port[8];
	int rc;

	job->rc = 0;
	if (job->via == VIA_NATPMP) {
		rc = natpmp_map(job, 0);
		if (rc != 0) {
			job->rc = MU_EIO;
			snprintf(job->why, sizeof(job->why), "NAT-PMP: %s",
			         natpmp_text(rc));
		}
	} else if (job->via == VIA_UPNP) {
		snprintf(port, sizeof(port), "%u", (unsigned)job->ext_port);
		rc = UPNP_DeletePortMapping(job->control_url, job->service, port, "TCP",
		                            NULL);
		if (rc != UPNPCOMMAND_SUCCESS) {
			job->rc = MU_EIO;
			snprintf(job->why, sizeof(job->why), "UPnP-IGD error %d: %s",
			         rc, strupnperror(rc));
		}
	}
}

static void
on_work(uv_work_t *w)
{
	struct mu_portmap *pm = w->data;

	if (pm->job.op == OP_MAP)
		do_map(&pm->job);
	else
		do_unmap(&pm->job);
}

/* --- on the loop ---------------------------------------------------------- */

static const char *
via_name(enum via v)
{
	return v == VIA_NATPMP ? "NAT-PMP" : "UPnP-IGD";
}

static void
write_state(struct mu_portmap *pm, const char *text)
{
	struct mu_why why = {0};
	int rc = mu_home_write_state(pm->node->home, STATE_FILE, text, &why);

	if (rc != 0)
		mu_node_log(pm->node, MU_LOG_WARN,
		            "cannot record the port mapping for status: %s",
		            mu_why_or(&why, rc));
}

static void
maybe_free(struct mu_portmap *pm)
{
	if (pm->stopping && pm->timer_closed && !pm->busy)
		free(pm);
}

static void
on_timer_closed(uv_handle_t *h)
{
	struct mu_portmap *pm = h->data;

	pm->timer_closed = true;
	maybe_free(pm);
}

static void on_done(uv_work_t *w, int status);

static void
submit(struct mu_portmap *pm, enum op op)
{
	int rc;

	pm->job.op = op;
	pm->job.lease_s = pm->node->opts.limits.map_lease_s;
	rc = uv_queue_work(pm->node->loop, &pm->work, on_work, on_done);
	if (rc != 0) {
		mu_node_log(pm->node, MU_LOG_WARN, "port mapping: cannot queue: %s",
		            uv_strerror(rc));
		return;
	}
	pm->busy = true;
}

/* The mapped address in opts.announce (--announce auto), and the node record
 * again when it changed. */
static void
announce_mapped(struct mu_portmap *pm)
{
	struct mu_node_opts *o = &pm->node->opts;

	if (!o->announce_auto)
		return;
	if (o->nannounce == pm->auto_index + 1 &&
	    strcmp(o->announce[pm->auto_index], pm->mapped) == 0)
		return;
	o->announce[pm->auto_index] = pm->mapped;
	o->nannounce = pm->auto_index + 1;
	mu_dial_announce(pm->node);
}

static void
after_map(struct mu_portmap *pm)
{
	struct mu_node *node = pm->node;
	struct job *job = &pm->job;
	char line[MU_WHY_MAX + 16], addr[sizeof(pm->mapped)];

	if (job->rc != 0) {
		if (strcmp(pm->said, job->why) != 0)
			mu_node_log(node, MU_LOG_ERROR, "--map-port: %s", job->why);
		snprintf(pm->said, sizeof(pm->said), "%s", job->why);
		snprintf(line, sizeof(line), "%s\t%s\n",
		         job->rc == MU_EPERM ? "refused" : "failed", job->why);
		write_state(pm, line);
		pm->mapped[0] = '\0';
	} else {
		snprintf(addr, sizeof(addr), "%s:%u", job->ext_ip,
		         (unsigned)job->ext_port);
		if (strcmp(addr, pm->mapped) != 0)
			mu_node_log(
			    node, MU_LOG_INFO,
			    "mapped port %u on the router to %s (%s, lease %u s)",
			    (unsigned)job->port, addr, via_name(job->via),
			    job->granted_s);
		else
			mu_node_log(node, MU_LOG_INFO,
			            "renewed the mapping %s (%s, lease %u s)", addr,
			            via_name(job->via), job->granted_s);
		snprintf(pm->mapped, sizeof(pm->mapped), "%s", addr);
		pm->said[0] = '\0';
		snprintf(line, sizeof(line), "mapped\t%s\t%s\n", addr,
		         via_name(job->via));
		write_state(pm, line);
		announce_mapped(pm);
	}
}

static void on_timer(uv_timer_t *t);

static void
schedule(struct mu_portmap *pm, unsigned s)
{
	uv_timer_start(&pm->timer, on_timer, (uint64_t)(s > 0 ? s : 1) * 1000, 0);
}

static void
on_done(uv_work_t *w, int status)
{
	struct mu_portmap *pm = w->data;
	struct job *job = &pm->job;

	pm->busy = false;
	if (job->op == OP_UNMAP || status != 0) {
		if (job->op == OP_UNMAP && job->rc != 0)
			mu_node_log(pm->node, MU_LOG_WARN,
			            "cannot remove the mapping %s from the router: %s; "
			            "it ends with its lease",
			            pm->mapped, job->why);
		else if (job->op == OP_UNMAP)
			mu_node_log(pm->node, MU_LOG_INFO,
			            "removed the mapping %s from the router",
			            pm->mapped);
		pm->mapped[0] = '\0';
		job->via = VIA_NONE;
		write_state(pm, "");
		maybe_free(pm);
		return;
	}
	if (pm->stopping) {
		/* Stopped while the request ran: undo what it made, and
		 * announce nothing (opts.announce is back to the given ones). */
		snprintf(pm->mapped, sizeof(pm->mapped), "%s:%u", job->ext_ip,
		         (unsigned)job->ext_port);
		if (job->rc == 0 && job->via != VIA_NONE)
			submit(pm, OP_UNMAP);
		else
			write_state(pm, "");
		maybe_free(pm);
		return;
	}
	after_map(pm);
	/* Renewed at half the lease, as NAT-PMP clients do; a permanent one
	 * is checked all the same, at half the lease asked for. */
	schedule(pm, job->rc != 0
	                 ? pm->node->opts.limits.map_retry_s
	                 : (job->granted_s > 0 ? job->granted_s : job->lease_s) / 2);
}

static void
on_timer(uv_timer_t *t)
{
	struct mu_portmap *pm = t->data;

	if (!pm->stopping && !pm->busy)
		submit(pm, OP_MAP);
}

int
mu_portmap_start(struct mu_node *node, struct mu_why *why)
{
	char host[MU_NODE_HOST_MAX];
	struct mu_portmap *pm;
	uint16_t port;
	int rc;

	if (!node->opts.map_port)
		return 0;
	if (node->opts.listen == NULL)
		return mu_fail(why, MU_EINVAL,
		               "--map-port maps the listen port: it "
		               "needs --listen");
	if ((rc = mu_node_addr_split(node->opts.listen, host, &port, why)) != 0)
		return rc;
	if (node->opts.announce_auto && node->opts.nannounce >= MU_NODE_ANNOUNCE_MAX)
		return mu_fail(why, MU_EINVAL,
		               "--announce auto needs room for one more address: at "
		               "most %d others",
		               MU_NODE_ANNOUNCE_MAX - 1);
	pm = calloc(1, sizeof(*pm));
	if (pm == NULL)
		return mu_fail(why, MU_ENOMEM, "out of memory");
	pm->node = node;
	pm->job.port = port;
	pm->auto_index = node->opts.nannounce;
	pm->work.data = pm;
	uv_timer_init(node->loop, &pm->timer);
	pm->timer.data = pm;
	node->portmap = pm;
	write_state(pm, "");
	mu_node_log(node, MU_LOG_INFO,
	            "asking the router to forward port %u (NAT-PMP, then UPnP-IGD)",
	            (unsigned)port);
	submit(pm, OP_MAP);
	return 0;
}

void
mu_portmap_stop(struct mu_node *node)
{
	struct mu_portmap *pm = node->portmap;

	if (pm == NULL)
		return;
	node->portmap = NULL;
	pm->stopping = true;
	if (pm->node->opts.announce_auto)
		pm->node->opts.nannounce = pm->auto_index;
	uv_close((uv_handle_t *)&pm->timer, on_timer_closed);
	if (!pm->busy && pm->job.via != VIA_NONE)
		submit(pm, OP_UNMAP);
	else if (!pm->busy)
		write_state(pm, "");
}
