/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * libnvmf.h - NVMe over Fabrics on TCP, host and controller sides.
 *
 * The library has no global state and no threads. A queue pair is one TCP
 * connection; it is driven by whoever owns it, either from an event loop
 * (nvmf_qpair_fd + nvmf_qpair_process) or through the blocking helpers.
 * A queue pair is not thread safe: one thread at a time drives it.
 *
 * Status values are the NVMe 15-bit status field without the phase bit:
 * SC | SCT << 8 | DNR << 14 (see nvmf_proto.h).
 */
#ifndef LIBNVMF_H
#define LIBNVMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvmf_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nvmf_association;
struct nvmf_qpair;
struct nvmf_capsule;

/* ------------------------------------------------------------ association */

/*
 * Parameters shared by every queue pair of one association (or, on a target,
 * of one listening port). Set .size to sizeof(struct nvmf_association_params)
 * so the structure can grow without breaking callers.
 */
/* A TCP congestion control's name, with its NUL (the kernel's TCP_CA_NAME_MAX). */
#define NVMF_TCP_CONGESTION_LEN	16

struct nvmf_association_params {
	size_t size;
	bool controller;		/* the controller (target) side */
	/* Host: ask for digests. Controller: permit a host to enable them. */
	bool header_digests;
	bool data_digests;
	/* Host: keep SQ flow control (false asks the controller to disable it).
	 * Controller: permit hosts to disable SQ flow control. */
	bool sq_flow_control;
	uint8_t pda;			/* alignment we require of data sent to us: (pda+1)*4 */
	uint32_t maxr2t;		/* host: outstanding R2Ts per command, zero-based */
	uint32_t max_h2c_data;		/* controller: MAXH2CDATA advertised, >= 4096 */
	uint32_t io_icd_size;		/* controller: in-capsule data on I/O queues */
	uint32_t max_transfer;		/* controller: largest data transfer of a command */
	/*
	 * Controller: bytes of command data one queue pair holds at once (at
	 * least max_transfer); commands beyond it wait, in order, until sends
	 * free some. 0: bounded only by queue size x max_transfer.
	 */
	uint32_t max_queue_data;
	/*
	 * The TCP congestion control of every queue pair's socket, as
	 * setsockopt(TCP_CONGESTION) takes it (e.g. "cubic"); "" leaves the
	 * system's default. Checked when the association is created: a name
	 * this process may not set fails it there, with the reason.
	 */
	char tcp_congestion[NVMF_TCP_CONGESTION_LEN];
};

/*
 * Creates an association from params (copied). Returns NULL with a message
 * in err when a parameter is out of range. The caller owns the result;
 * queue pairs take their own reference, so it may be freed at any time.
 */
struct nvmf_association *nvmf_association_create(
    const struct nvmf_association_params *params, char *err, size_t errlen);
/* Drops the caller's reference. */
void nvmf_association_free(struct nvmf_association *na);
/*
 * Whether name is a TCP congestion control this process may set on its
 * sockets (tried on a socket of its own): 0, or -1 with why in err (the
 * names the system has among it). For programs that take one as an option.
 */
int nvmf_tcp_congestion_check(const char *name, char *err, size_t errlen);
const struct nvmf_association_params *nvmf_association_params(
    const struct nvmf_association *na);

/* -------------------------------------------------------------- queue pair */

/* What the initialize-connection exchange settled for a queue pair. */
struct nvmf_qpair_info {
	bool header_digests;
	bool data_digests;
	uint8_t icreq_dgst;		/* controller: the digests ICReq asked for */
	uint8_t hpda;			/* alignment of C2H data */
	uint8_t cpda;			/* alignment of H2C data */
	uint32_t max_h2c_data;
	uint32_t maxr2t;
};

/*
 * Host: sends ICReq on the connected socket fd and waits at most timeout_ms
 * for ICResp. qsize is the number of submission queue entries (Connect
 * SQSIZE + 1); admin selects the admin queue's in-capsule data size.
 * On success the queue pair owns fd (made non-blocking). On failure returns
 * NULL, fd is left open for the caller, and err names the cause.
 */
struct nvmf_qpair *nvmf_host_qpair_create(struct nvmf_association *na, int fd,
    uint16_t qsize, bool admin, int timeout_ms, char *err, size_t errlen);

/*
 * Controller: waits at most timeout_ms for ICReq on the accepted socket fd
 * and answers with ICResp. Ownership of fd as for nvmf_host_qpair_create; a
 * malformed ICReq is answered with a C2HTermReq before NULL is returned.
 */
struct nvmf_qpair *nvmf_controller_qpair_accept(struct nvmf_association *na,
    int fd, int timeout_ms, char *err, size_t errlen);

/*
 * Closes the socket and frees the queue pair; not to be called from one of
 * its callbacks. Host commands still outstanding get their callback with
 * cqe == NULL (never completed) before this returns. Controller capsules
 * handed to the command handler must be completed or freed before this.
 */
void nvmf_qpair_free(struct nvmf_qpair *qp);

const struct nvmf_qpair_info *nvmf_qpair_info(const struct nvmf_qpair *qp);
int nvmf_qpair_fd(const struct nvmf_qpair *qp);
/* True when output is queued: poll the fd for POLLOUT as well. */
bool nvmf_qpair_tx_pending(const struct nvmf_qpair *qp);

/*
 * Receives every PDU available without blocking, dispatches completions
 * (host) or commands (controller) to their callbacks, and sends what the
 * socket takes. Returns 0 while the connection is usable, -1 once it is
 * not (peer closed, socket error, protocol error: a termination request has
 * then been sent); nvmf_qpair_error says why. Safe to call from a callback.
 * It stops at a short read rather than asking the socket again for EAGAIN,
 * so poll the fd level-triggered (bytes that arrive meanwhile wake it).
 */
int nvmf_qpair_process(struct nvmf_qpair *qp);
/*
 * Waits up to timeout_ms for the socket, then nvmf_qpair_process. With
 * nothing to send it waits in the receive itself (SO_RCVTIMEO), having
 * cleared the descriptor's O_NONBLOCK: the library's other calls all say
 * MSG_DONTWAIT.
 */
int nvmf_qpair_poll(struct nvmf_qpair *qp, int timeout_ms);
/* One line naming why the connection failed, or "" while it is healthy. */
const char *nvmf_qpair_error(const struct nvmf_qpair *qp);
bool nvmf_qpair_failed(const struct nvmf_qpair *qp);

/*
 * Ends the connection on purpose with a termination request carrying fes
 * and fei; the queue pair stays allocated and reports the reason.
 */
void nvmf_qpair_terminate(struct nvmf_qpair *qp, uint16_t fes, uint32_t fei,
    const char *why);

/* Opaque pointer for the owner of the queue pair. */
void nvmf_qpair_set_context(struct nvmf_qpair *qp, void *ctx);
void *nvmf_qpair_context(const struct nvmf_qpair *qp);

/* -------------------------------------------------------------- poll group */

/*
 * A poll group drives many queue pairs (host or controller side) from one
 * thread over one epoll set, level-triggered (see nvmf_qpair_process on
 * short reads). Commands submitted to a grouped queue pair, from a
 * callback or between polls, are only queued; the group sends what every
 * such queue pair holds once per turn, with as few sendmsg calls as the
 * socket allows. EPOLLOUT is registered only while a queue pair has
 * output its socket would not take.
 *
 * Thread rules: a group and its queue pairs belong to one thread; every
 * call on them (submit, complete, add, remove, poll, free) comes from it.
 * Several groups in several threads share nothing.
 */
struct nvmf_poll_group;

/*
 * Told once that a grouped queue pair failed (nvmf_qpair_error says why).
 * By then its outstanding host commands have had their callbacks with a
 * NULL completion and it has left the group, so the callee may free it.
 */
typedef void (*nvmf_qpair_failed_cb)(void *arg, struct nvmf_qpair *qp);

/* Creates a group; on_failed may be NULL. NULL with err on failure. */
struct nvmf_poll_group *nvmf_poll_group_create(nvmf_qpair_failed_cb on_failed,
    void *arg, char *err, size_t errlen);
/*
 * Adds a queue pair: from now on the group polls it and sends its output.
 * Returns 0, -EBUSY when it is in a group already, -ENOTCONN when it has
 * failed, or another negative errno from epoll.
 */
int nvmf_poll_group_add(struct nvmf_poll_group *pg, struct nvmf_qpair *qp);
/* Takes a queue pair out of the group (its output is sent first, if the
 * socket takes it); nvmf_qpair_free does this by itself. 0 or -ENOENT. */
int nvmf_poll_group_remove(struct nvmf_poll_group *pg, struct nvmf_qpair *qp);
/*
 * One turn: sends what was queued since the last turn, waits up to
 * timeout_ms (-1: no limit, 0: do not wait) for sockets and set-up
 * deadlines, receives and dispatches, then sends once more (a group of one
 * queue pair with nothing to send waits in its receive, as nvmf_qpair_poll
 * does). Returns the number of queue pairs and watched descriptors that
 * had something to do, or a negative errno
 * (epoll failed; EINTR is not an error, 0 is returned).
 */
int nvmf_poll_group_poll(struct nvmf_poll_group *pg, int timeout_ms);
/*
 * The end of a turn without its epoll_wait: sends what was queued, runs
 * the set-up deadlines that are due, reports failures. For a caller whose
 * own loop watches nvmf_poll_group_fd and saw it quiet, but queued
 * commands this turn. Returns the number of deadlines that ran.
 */
int nvmf_poll_group_flush(struct nvmf_poll_group *pg);
/* The epoll descriptor, readable when a poll would have work: to nest the
 * group in another event loop. */
int nvmf_poll_group_fd(const struct nvmf_poll_group *pg);
/* Called from nvmf_poll_group_poll with the epoll events of a watched descriptor. */
typedef void (*nvmf_poll_group_fd_cb)(void *arg, uint32_t events);
/*
 * The other way round: the caller's own descriptors (EPOLLIN and the like
 * in events) join the group's epoll set, and the caller's loop is one
 * nvmf_poll_group_poll a turn, one epoll_wait where nesting costs two. The
 * callback may submit, watch and unwatch. 0 or a negative errno.
 */
int nvmf_poll_group_watch(struct nvmf_poll_group *pg, int fd, uint32_t events,
    nvmf_poll_group_fd_cb cb, void *arg);
/* Stops watching fd (before it is closed); 0 or -ENOENT. */
int nvmf_poll_group_unwatch(struct nvmf_poll_group *pg, int fd);
/* Frees the group; its queue pairs leave it but are not freed. */
void nvmf_poll_group_free(struct nvmf_poll_group *pg);

/* ------------------------------------------------------------ host side */

/* Completion callback: cqe is NULL when the queue pair went away first. */
typedef void (*nvmf_completion_cb)(void *arg, const struct nvme_completion *cqe);

/*
 * Host: sets the I/O queue's in-capsule data size from the controller's
 * IOCCSZ (bytes of data after the SQE); 0 sends all data through R2T.
 */
void nvmf_host_qpair_set_icd_size(struct nvmf_qpair *qp, uint32_t bytes);

/*
 * Host: queues a command. The SQE is copied; its CID and SGL are filled in
 * here. data/len is the command's buffer, written to the controller when
 * to_controller, filled from it otherwise; it must stay valid until the
 * callback runs. Returns 0, -EBUSY when every slot (or the SQ, with flow
 * control) is in use, or -ENOTCONN when the connection has failed; on error
 * the callback is not called.
 */
int nvmf_host_submit(struct nvmf_qpair *qp, const struct nvme_command *sqe,
    void *data, uint32_t len, bool to_controller, nvmf_completion_cb cb,
    void *arg);
/* Commands submitted and not yet completed. */
unsigned nvmf_host_outstanding(const struct nvmf_qpair *qp);

/*
 * Host, blocking: submits and drives the queue pair until the completion
 * arrives or timeout_ms passes. Returns 0 with *cqe filled (its status may
 * be an NVMe error), -ETIMEDOUT, or -ECONNRESET / -EPROTO when the
 * connection failed (see nvmf_qpair_error).
 */
int nvmf_host_execute(struct nvmf_qpair *qp, const struct nvme_command *sqe,
    void *data, uint32_t len, bool to_controller, struct nvme_completion *cqe,
    int timeout_ms);

/* ----------------------------------------------------- controller side */

/*
 * Controller: called for each command once its data (in-capsule or through
 * R2T/H2CData) has arrived. The capsule belongs to the callee, who must
 * complete it with nvmf_capsule_complete (now or later) or free it.
 */
typedef void (*nvmf_command_cb)(void *arg, struct nvmf_capsule *nc);
void nvmf_controller_set_handler(struct nvmf_qpair *qp, nvmf_command_cb cb,
    void *arg);

/*
 * A received PDU that breaks a rule of the specification which Linux nvmet
 * does not enforce (today: a command capsule with PDO set but no data).
 * what describes it in one line; fes and fei are what a termination request
 * refusing it carries. Return true to serve the PDU, false to refuse it: the
 * queue pair then sends the termination request and fails. Without a
 * handler every such PDU is served.
 */
typedef bool (*nvmf_deviation_cb)(void *arg, const char *what, uint16_t fes,
    uint32_t fei);
void nvmf_qpair_set_deviation_handler(struct nvmf_qpair *qp, nvmf_deviation_cb cb,
    void *arg);

/*
 * Controller: records what Connect settled for this queue (qsize = SQSIZE+1,
 * whether SQ flow control stays on, admin or I/O for the in-capsule limit).
 */
void nvmf_controller_qpair_setup(struct nvmf_qpair *qp, uint16_t qid,
    uint16_t qsize, bool sq_flow_control);
uint16_t nvmf_qpair_qid(const struct nvmf_qpair *qp);

const struct nvme_command *nvmf_capsule_sqe(const struct nvmf_capsule *nc);
struct nvmf_qpair *nvmf_capsule_qpair(const struct nvmf_capsule *nc);
/* Length the command's SGL describes. */
uint32_t nvmf_capsule_data_len(const struct nvmf_capsule *nc);
/*
 * The command's data buffer of nvmf_capsule_data_len bytes: what the host
 * sent for a write-type command, space to fill for a read-type one (zeroed).
 * NULL for a command without data or when memory ran out.
 */
void *nvmf_capsule_data(struct nvmf_capsule *nc);

/*
 * Controller: completes a command. The first c2h_len bytes of the data
 * buffer go to the host in C2HData PDUs, then the response (status, cdw0,
 * cdw1). The capsule is consumed: the library frees it once sent, or at
 * once when the connection has failed.
 */
void nvmf_capsule_complete(struct nvmf_capsule *nc, uint16_t status,
    uint32_t cdw0, uint32_t cdw1, uint32_t c2h_len);
/* Controller: drops a command without answering (connection going away). */
void nvmf_capsule_free(struct nvmf_capsule *nc);

/*
 * Controller, zero copy (1.2). As nvmf_capsule_data, but a read-type
 * command's buffer is not zeroed: the caller fills all it sends. The
 * library's data buffers come from a cache of the queue pair's, so large
 * transfers do not fault fresh pages in on every command.
 */
void *nvmf_capsule_data_nozero(struct nvmf_capsule *nc);
/*
 * Makes buf (nvmf_capsule_data_len bytes, the caller's) the command's data
 * buffer: C2H data is sent straight from it, H2C data received straight
 * into it. release(arg), when not NULL, is called once the library no
 * longer uses buf (the capsule is freed: its PDUs sent, or the connection
 * gone). For a read-type command any time before nvmf_capsule_complete; for
 * a write-type one only from the placement callback (its data is received
 * once). 0, or -1 when too late.
 */
int nvmf_capsule_set_data(struct nvmf_capsule *nc, void *buf,
    void (*release)(void *arg), void *arg);
/*
 * Controller: called for each write-type command with data to come (in the
 * capsule or after R2T), before any of it is received, so the callee can
 * nvmf_capsule_set_data its final place. Without it (or when the callee does
 * not set one) the data goes into a library buffer. Commands already failed
 * by the transport are not offered. With data digests on, data lands
 * before its digest is checked; the command then completes with an error.
 */
typedef void (*nvmf_placement_cb)(void *arg, struct nvmf_capsule *nc);
void nvmf_controller_set_placement(struct nvmf_qpair *qp, nvmf_placement_cb cb,
    void *arg);
/*
 * Corks a queue pair not driven by a poll group: completions made outside
 * nvmf_qpair_process (from another event source, such as an io_uring
 * completion queue) queue their PDUs instead of a send each; uncorking sends
 * them all at once, as few sendmsg calls as the socket takes, and starts
 * commands that waited for data memory. uncork: 0, or -1 once the
 * connection failed.
 */
void nvmf_qpair_cork(struct nvmf_qpair *qp);
int nvmf_qpair_uncork(struct nvmf_qpair *qp);

/* ------------------------------------- blocking association set-up (tools) */

/*
 * Dials address:port (numeric or a name; IPv4 or IPv6) within timeout_ms.
 * Returns the connected socket, or -1 with err naming the cause.
 */
int nvmf_tcp_dial(const char *address, const char *port, int timeout_ms, char *err,
    size_t errlen);

/* What a host presents in Fabrics Connect. */
struct nvmf_connect_params {
	size_t size;
	const char *subnqn;
	const char *hostnqn;
	uint8_t hostid[16];
	uint16_t cntlid;		/* NVMF_CNTLID_DYNAMIC for an admin queue */
	uint32_t kato_ms;		/* admin queue only */
	int timeout_ms;			/* each exchange */
};

/*
 * ICReq/ICResp, then Fabrics Connect for queue qid with qsize entries, on a
 * connected socket. On success returns the queue pair (owning fd) and sets
 * *cntlid from the response; on failure returns NULL, closes nothing (fd is
 * still the caller's), and err says why — a Connect refused names its status
 * (e.g. "Connect Invalid Host"), and *status holds it when status != NULL.
 */
struct nvmf_qpair *nvmf_host_connect_queue(struct nvmf_association *na, int fd,
    const struct nvmf_connect_params *cp, uint16_t qid, uint16_t qsize,
    uint16_t *cntlid, uint16_t *status, char *err, size_t errlen);

/* Reads a property (register). 0 or -1 with err. */
int nvmf_host_property_get(struct nvmf_qpair *admin, uint32_t offset, bool eight,
    uint64_t *value, int timeout_ms, char *err, size_t errlen);
/* Sets CC.EN and waits for CSTS.RDY within CAP.TO (at most timeout_ms). */
int nvmf_host_enable_controller(struct nvmf_qpair *admin, int timeout_ms, char *err,
    size_t errlen);
/* Sets CC.SHN and waits for CSTS.SHST complete; best effort on a failing queue. */
int nvmf_host_shutdown_controller(struct nvmf_qpair *admin, int timeout_ms);
/* Runs an admin command whose data (len bytes) comes back into buf. */
int nvmf_host_admin_read(struct nvmf_qpair *admin, const struct nvme_command *sqe,
    void *buf, uint32_t len, uint32_t *cdw0, int timeout_ms, char *err, size_t errlen);
/* Set Features Number of Queues: asks for *count I/O queues, returns the grant. */
int nvmf_host_request_queues(struct nvmf_qpair *admin, uint32_t *count, int timeout_ms,
    char *err, size_t errlen);
/*
 * Reads the whole discovery log, re-reading while the generation counter
 * changes. *log is malloc'd (header then numrec entries); free() it.
 */
int nvmf_host_discovery_log(struct nvmf_qpair *admin,
    struct nvmf_discovery_log_header **log, int timeout_ms, char *err, size_t errlen);

/* ------------------------------------ callback admin helpers (event loops) */

/*
 * What an asynchronous admin helper reports, once, to its callback: rc 0
 * on success; -EIO when the controller answered with an error status
 * (status holds it); -ECONNRESET or -EPROTO when the connection ended
 * first, -ETIMEDOUT when a deadline ended it. err is "" on success, else
 * one line naming the command and the cause, as the blocking helpers say
 * it. value is the property (Property Get), CAP (enable) or CDW0.
 */
struct nvmf_admin_result {
	int rc;
	uint16_t status;
	uint64_t value;
	const char *err;
};
typedef void (*nvmf_admin_cb)(void *arg, const struct nvmf_admin_result *r);

/*
 * Each submits on the admin queue pair and returns 0, or a negative errno
 * from nvmf_host_submit (-ENOMEM too), in which case cb is never called.
 * The callback runs from the queue pair's processing (a poll group's turn
 * or nvmf_qpair_process). None has a deadline of its own: the blocking
 * helpers, or the caller, end a queue pair that does not answer.
 */
int nvmf_host_admin_cmd_async(struct nvmf_qpair *admin, const struct nvme_command *sqe,
    void *buf, uint32_t len, bool to_controller, nvmf_admin_cb cb, void *arg);
int nvmf_host_property_get_async(struct nvmf_qpair *admin, uint32_t offset, bool eight,
    nvmf_admin_cb cb, void *arg);
int nvmf_host_property_set_async(struct nvmf_qpair *admin, uint32_t offset, bool eight,
    uint64_t value, nvmf_admin_cb cb, void *arg);
/* buf holds len bytes (4096 for the controller and namespace structures). */
int nvmf_host_identify_async(struct nvmf_qpair *admin, uint8_t cns, uint32_t nsid,
    void *buf, uint32_t len, nvmf_admin_cb cb, void *arg);
int nvmf_host_get_log_page_async(struct nvmf_qpair *admin, uint8_t lid, uint32_t nsid,
    uint64_t offset, void *buf, uint32_t len, nvmf_admin_cb cb, void *arg);
int nvmf_host_set_features_async(struct nvmf_qpair *admin, uint8_t fid, uint32_t cdw11,
    nvmf_admin_cb cb, void *arg);
/*
 * Reads CAP, sets CC.EN and polls CSTS.RDY every 10 ms for CAP.TO (at most
 * timeout_ms); the result's value is CAP. The pauses use the queue pair's
 * wake-up, which a poll group (or the blocking helpers) honours.
 */
int nvmf_host_enable_controller_async(struct nvmf_qpair *admin, int timeout_ms,
    nvmf_admin_cb cb, void *arg);

/* ------------------------------------- non-blocking association set-up */

/*
 * ICReq/ICResp then Fabrics Connect on a connected (or still connecting)
 * socket, driven by the poll group pg: the queue pair joins pg at once and
 * stays there. cb runs once, at the end of a turn of pg (so it may free
 * queue pairs): with the queue pair on success, or NULL once it has been
 * freed and fd closed. Each exchange is bounded by cp->timeout_ms. Returns
 * 0, or -1 with err (then fd is the caller's and cb is never called).
 */
struct nvmf_connect_result {
	int rc;				/* 0, or -1 with err */
	uint16_t status;		/* Connect's NVMe status when it was refused */
	uint16_t cntlid;
	const char *err;
};
typedef void (*nvmf_connect_cb)(void *arg, struct nvmf_qpair *qp,
    const struct nvmf_connect_result *r);
int nvmf_host_connect_queue_async(struct nvmf_poll_group *pg, struct nvmf_association *na,
    int fd, const struct nvmf_connect_params *cp, uint16_t qid, uint16_t qsize,
    nvmf_connect_cb cb, void *arg, char *err, size_t errlen);

/*
 * A whole association, as states driven by a poll group: for the admin
 * queue dial, ICReq/ICResp, Connect, Property Get CAP, Set CC.EN, Get
 * CSTS.RDY, Identify Controller, Set Features Number of Queues; then every
 * I/O queue's dial, ICReq/ICResp and Connect at once. Set .size.
 */
struct nvmf_ctrl_connect_params {
	size_t size;
	const char *address;		/* dialed for each queue (numeric is best: */
	const char *port;		/* a name is resolved blocking, once) */
	/* Optional instead of address/port: a connected socket for queue qid. */
	int (*dial)(void *arg, uint16_t qid, char *err, size_t errlen);
	void *dial_arg;
	struct nvmf_connect_params connect;	/* cntlid ignored; timeout_ms each step */
	uint16_t admin_qsize;		/* 0: 32 */
	uint32_t io_queues;		/* asked for; fewer granted means fewer */
	uint16_t io_qsize;		/* 0: 32 */
};
struct nvmf_ctrl_connect;
/* rc 0 or -1 with err (one line naming the step); runs at the end of a turn. */
typedef void (*nvmf_ctrl_connect_cb)(void *arg, struct nvmf_ctrl_connect *cc, int rc,
    const char *err);
/* Starts; NULL with err when it cannot (then cb is never called). */
struct nvmf_ctrl_connect *nvmf_host_ctrl_connect_async(struct nvmf_poll_group *pg,
    struct nvmf_association *na, const struct nvmf_ctrl_connect_params *p,
    nvmf_ctrl_connect_cb cb, void *arg, char *err, size_t errlen);
/* What a successful set-up built. Set .size. */
struct nvmf_ctrl_result {
	size_t size;
	struct nvmf_qpair *admin;
	struct nvmf_qpair **io;		/* nio of them, malloc'd: free() the array */
	uint32_t nio;
	uint16_t cntlid;
	uint64_t cap;
	struct nvme_identify_controller id;
};
/*
 * After success: hands the queue pairs (still in the group; the I/O ones
 * with the controller's in-capsule data size set) to the caller. 0, or
 * -EINVAL before success or when taken already.
 */
int nvmf_ctrl_connect_take(struct nvmf_ctrl_connect *cc, struct nvmf_ctrl_result *r);
/* Frees the set-up and the queue pairs not taken; cancels one in progress
 * (its callback is then not called). Not from a queue pair's callback. */
void nvmf_ctrl_connect_free(struct nvmf_ctrl_connect *cc);

/* ------------------------------------------- queue hand-off between processes */

/*
 * Everything a process needs to carry on a connected host queue pair over
 * the same socket: what ICReq/ICResp and Connect settled and where the
 * submission queue stands. Set .size before use.
 */
struct nvmf_qpair_handoff {
	size_t size;
	uint16_t qid;
	uint16_t qsize;
	bool sq_flow_control;
	uint16_t sqhd;
	uint16_t sqtail;
	uint32_t icd_size;
	struct nvmf_qpair_info info;
};

/*
 * Describes a host queue pair for hand-off. Fails with -EBUSY while a
 * command is outstanding or a PDU is half received or half sent.
 */
int nvmf_host_qpair_export(const struct nvmf_qpair *qp, struct nvmf_qpair_handoff *h);
/*
 * Frees the queue pair but leaves its socket open; returns the socket,
 * which now belongs to the caller.
 */
int nvmf_qpair_release_fd(struct nvmf_qpair *qp);
/*
 * Host: builds a queue pair on a socket handed over with h (no new
 * ICReq, no new Connect). Takes fd on success; NULL with err otherwise.
 */
struct nvmf_qpair *nvmf_host_qpair_adopt(struct nvmf_association *na, int fd,
    const struct nvmf_qpair_handoff *h, char *err, size_t errlen);

/* ------------------------------------------------ commands (host helpers) */

/* Builders fill a zeroed SQE; none does I/O. */
void nvmf_cmd_connect(struct nvme_command *sqe, uint16_t qid, uint16_t sqsize,
    uint32_t kato_ms, bool disable_sq_fc);
void nvmf_connect_data_init(struct nvmf_connect_data *d, const uint8_t hostid[16],
    uint16_t cntlid, const char *subnqn, const char *hostnqn);
void nvmf_cmd_property_get(struct nvme_command *sqe, uint32_t offset, bool eight_bytes);
void nvmf_cmd_property_set(struct nvme_command *sqe, uint32_t offset, bool eight_bytes,
    uint64_t value);
void nvmf_cmd_identify(struct nvme_command *sqe, uint8_t cns, uint32_t nsid);
void nvmf_cmd_get_log_page(struct nvme_command *sqe, uint8_t lid, uint32_t nsid,
    uint64_t offset, uint32_t len);
void nvmf_cmd_set_features(struct nvme_command *sqe, uint8_t fid, uint32_t cdw11);
void nvmf_cmd_get_features(struct nvme_command *sqe, uint8_t fid);
void nvmf_cmd_keep_alive(struct nvme_command *sqe);
void nvmf_cmd_rw(struct nvme_command *sqe, uint8_t opc, uint32_t nsid,
    uint64_t slba, uint32_t nlb);

/* Human-readable name of a status value, e.g. "Connect Invalid Host". */
const char *nvmf_status_string(uint16_t status);
const char *nvmf_pdu_type_name(uint8_t pdu_type);
const char *nvmf_fes_string(uint16_t fes);

/* CRC32C as NVMe/TCP digests use it (isa-l underneath). */
uint32_t nvmf_crc32c(const void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* LIBNVMF_H */
