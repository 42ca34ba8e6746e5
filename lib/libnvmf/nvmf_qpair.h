/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * nvmf_qpair.h - the queue pair as the transport engine (qpair.c), the host
 * side (host.c) and the controller side (controller.c) share it. Internal.
 */
#ifndef NVMF_QPAIR_H
#define NVMF_QPAIR_H

#include <stdatomic.h>

#include "nvmf/libnvmf.h"
#include "nvmf_bufpool.h"
#include "nvmf_pdu.h"
#include "nvmf_stream.h"

struct nvmf_association {
	atomic_int refs;
	struct nvmf_association_params params;
};

struct nvmf_qpair;

/*
 * What differs between the two ends of a queue pair. The engine (qpair.c)
 * moves bytes and frames PDUs; everything that depends on which side we
 * are goes through this table, so the engine has no role branches.
 */
struct nvmf_role {
	bool controller;		/* PDU rules and termination requests we send */
	const char *term_req_name;	/* the termination request this side sends */
	/* Alignment we use for data we send / require of data we receive. */
	void (*settle_pda)(struct nvmf_qpair *qp, const struct nvmf_qpair_info *info);
	/* A header (and its digest) arrived and passed the common checks. */
	int (*rx_header)(struct nvmf_qpair *qp);
	/* The PDU whose header rx_header accepted is complete. */
	void (*rx_done)(struct nvmf_qpair *qp);
	/* The data digest of the PDU in progress did not match. */
	void (*rx_data_corrupt)(struct nvmf_qpair *qp);
	/* Sends freed memory: start work that waited; true when some did. */
	bool (*resume)(struct nvmf_qpair *qp);
	/* The connection failed: commands in flight will never complete. */
	void (*drop)(struct nvmf_qpair *qp);
	/* The queue pair goes away: drop (or call back) what is in flight. */
	void (*teardown)(struct nvmf_qpair *qp);
};

extern const struct nvmf_role nvmf_host_role;
extern const struct nvmf_role nvmf_ctrl_role;

/* One PDU waiting to go out: prefix (header, digest, padding), data, digest. */
struct tx_pdu {
	struct tx_pdu *next;
	uint32_t prefix_len;
	uint32_t data_len;
	const uint8_t *data;
	uint32_t sent;			/* bytes of this PDU already written */
	bool has_ddgst;
	uint32_t ddgst;
	void (*done)(struct nvmf_qpair *qp, void *arg, bool sent);
	void *done_arg;
	uint8_t prefix[NVMF_PDU_MAX_PREFIX];
};

/* A host command in flight; its index in qp->cmds is its CID. */
struct host_cmd {
	struct host_cmd *next_free;
	bool busy;
	bool to_controller;
	bool data_corrupt;		/* a data digest failed */
	bool resp_pending;		/* response in, waiting for our sends */
	uint8_t *buf;
	uint32_t len;
	uint32_t c2h_got;
	unsigned tx_refs;		/* PDUs in the send queue that use buf */
	struct nvme_completion cqe;
	nvmf_completion_cb cb;
	void *arg;
};

struct nvmf_capsule {
	struct nvmf_qpair *qp;
	struct nvme_command sqe;
	uint8_t *data;
	uint32_t data_len;		/* what the SGL describes */
	uint32_t data_got;		/* H2C bytes received */
	bool h2c;			/* data flows host to controller */
	bool awaiting_h2c;		/* in the R2T table, waiting for H2CData */
	bool data_corrupt;
	uint16_t ttag;
	uint16_t pending_status;	/* transport-level failure to report */
	unsigned tx_refs;
	uint32_t data_held;		/* bytes counted in qp->data_held */
	bool data_pooled;		/* data is from qp->pool, data_len bytes */
	bool placing;			/* inside the placement callback */
	/* data is the caller's (nvmf_capsule_set_data): release it when done. */
	void (*release)(void *arg);
	void *release_arg;
	struct nvmf_capsule *next_deferred;
};

enum rx_state {
	RX_COMMON,			/* the 8-byte common header */
	RX_HEADER,			/* rest of header and header digest */
	RX_PAD,				/* up to the data offset */
	RX_DATA,
	RX_DDGST,
	RX_TRAILER,			/* bytes we read and drop (TermReq data) */
};

struct nvmf_qpair {
	struct nvmf_association *na;
	struct nvmf_stream *stream;	/* every byte in and out goes through it */
	bool keep_fd;			/* freeing leaves the descriptor open */
	const struct nvmf_role *role;
	bool admin;
	bool failed;
	bool in_process;		/* inside nvmf_qpair_process: flush at its end */
	bool protocol_error;		/* a PDU broke the rules, either side's */
	char error[200];
	void *ctx;
	struct nvmf_qpair_info info;
	struct nvmf_pdu_rules rules;
	uint16_t qid;
	uint16_t qsize;
	bool sq_fc;
	uint32_t icd_size;		/* in-capsule data allowed towards the controller */
	uint32_t tx_pda;		/* alignment the peer asked of our data */

	/* receive */
	uint8_t *rxbuf;
	uint32_t rx_pos, rx_end;
	uint64_t rx_reads;		/* reads that brought bytes: did a wait see any */
	bool rx_large;			/* the last payload was read in place */
	enum rx_state rx_state;
	uint8_t hdr[NVMF_PDU_MAX_HDR] __attribute__((aligned(8)));	/* read as PDU structs */
	uint32_t hdr_got, hdr_need;
	uint32_t skip_left;
	uint8_t *data_dst;		/* NULL: drop the data */
	uint32_t data_left;
	uint32_t crc;
	uint8_t ddgst[NVME_TCP_DIGEST_LEN];
	uint32_t ddgst_got;
	struct host_cmd *rx_cmd;	/* host: command of the C2HData in progress */
	struct nvmf_capsule *rx_capsule;	/* controller: capsule in progress */

	/* send */
	struct tx_pdu *tx_head, *tx_tail, *tx_free;
	unsigned tx_free_count;

	/* host */
	struct host_cmd *cmds;
	struct host_cmd *free_cmds;
	unsigned outstanding;
	uint16_t sqtail, sqhd;

	nvmf_deviation_cb deviation;
	void *deviation_arg;

	/* controller */
	nvmf_command_cb handler;
	void *handler_arg;
	struct nvmf_capsule **r2t_table;	/* by transfer tag */
	uint16_t r2t_slots;
	uint16_t ctrl_sqhd;
	/* Commands received and not yet answered on the wire: at most qsize. */
	uint32_t ctrl_outstanding;
	uint64_t data_held;		/* command data the queue's capsules hold */
	/* Where H2C data goes, asked before it is received (nvmfd: in place). */
	nvmf_placement_cb placement;
	void *placement_arg;
	bool corked;			/* completions queue without a send each */
	struct nvmf_bufpool pool;	/* command data buffers, reused */
	/* Commands waiting, in order, for data memory (max_queue_data). */
	struct nvmf_capsule *deferred_head, *deferred_tail;

	/* poll group (poll_group.c) */
	struct nvmf_poll_group *group;
	struct nvmf_qpair *member_prev, *member_next;	/* the group's queue pairs */
	struct nvmf_qpair *dirty_next;	/* the group's list of queues to flush */
	struct nvmf_qpair *failed_next;	/* the group's list of failures to report */
	bool dirty;			/* has output the group has not sent yet */
	bool dirty_listed;		/* on the group's dirty list */
	bool watching_out;		/* EPOLLOUT is registered */
	bool failed_reported;
	/* Set by whoever drives set-up: told of a failure instead of the group's owner. */
	void (*on_failed)(struct nvmf_qpair *qp, void *arg);
	void *on_failed_arg;

	/* Host, before ICResp: what the exchange must grant, and who hears it. */
	bool ic_pending;
	void (*ic_done)(struct nvmf_qpair *qp, void *arg);
	void *ic_arg;
	bool timed_out;			/* ended because an answer was overdue */

	/* One wake-up at a time (set-up steps' deadlines and delays). */
	bool wake_armed;
	long wake_at;			/* nvmf_now_ms() clock */
	void (*wake_cb)(struct nvmf_qpair *qp, void *arg);
	void *wake_arg;
	struct nvmf_qpair *wake_next;	/* the group's list of armed queues */
};

/* qpair.c: the engine. */
/* Takes the stream on success only. */
struct nvmf_qpair *nvmf_qpair_alloc(struct nvmf_association *na,
    struct nvmf_stream *stream, const struct nvmf_role *role);
/* Records what ICReq/ICResp (or a hand-off) settled: digests and alignments. */
void nvmf_qpair_settle(struct nvmf_qpair *qp, const struct nvmf_qpair_info *info);
void nvmf_qpair_fail(struct nvmf_qpair *qp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void nvmf_qpair_fault(struct nvmf_qpair *qp, const struct nvmf_pdu_fault *f);
struct tx_pdu *nvmf_tx_get(struct nvmf_qpair *qp);
/* Queues a PDU; computes the data digest when the PDU has data and it is on. */
void nvmf_tx_queue(struct nvmf_qpair *qp, struct tx_pdu *p);
int nvmf_tx_flush(struct nvmf_qpair *qp);
/* Flushes, then lets the role start what waited for the sends; 0 or -1. */
int nvmf_qpair_flush_resume(struct nvmf_qpair *qp);
/* Receives and dispatches what the stream holds, without flushing; 0 or -1. */
int nvmf_qpair_receive(struct nvmf_qpair *qp);
/* The same, the first read waiting up to wait_ms for bytes: 1 when some
 * came, 0 when none did (timeout, signal), -1 when the queue pair failed. */
int nvmf_qpair_receive_wait(struct nvmf_qpair *qp, int wait_ms);
/* Arms (or, with cb NULL, disarms) the queue pair's one wake-up at at_ms. */
void nvmf_qpair_wake(struct nvmf_qpair *qp, long at_ms,
    void (*cb)(struct nvmf_qpair *qp, void *arg), void *arg);
/* Runs the wake-up when due; true when it ran. */
bool nvmf_qpair_wake_due(struct nvmf_qpair *qp, long now);

/* handshake.c: non-blocking and Nagle off, as every queue pair's socket. */
int nvmf_socket_setup(int fd);

/*
 * congestion.c: the association's TCP congestion control ("" : the system's)
 * on a queue pair's socket. 0, or -1 with why in err.
 */
int nvmf_socket_congestion(int fd, const char *name, char *err, size_t errlen);

/* deadline.c: one clock and one way to wait for the library's set-up steps. */
long nvmf_now_ms(void);
long nvmf_deadline(int timeout_ms);
/* Milliseconds left before deadline, at least 0. */
int nvmf_ms_left(long deadline);

/* host_admin.c: the waiting and the error text every host helper shares. */
/*
 * Drives qp (not through a group) until *done or deadline. At the deadline
 * the queue pair is ended (an answer may still arrive into buffers it no
 * longer owns) and its commands called back with NULL. 0, -ETIMEDOUT, or
 * -ECONNRESET / -EPROTO when the connection failed.
 */
int nvmf_host_wait(struct nvmf_qpair *qp, const bool *done, long deadline);
/* Ends qp because an answer is overdue; its commands hear it at once. */
void nvmf_host_time_out(struct nvmf_qpair *qp, const char *why);
/* "what: no answer from the controller" or "what: <why the connection failed>". */
void nvmf_err_lost(const struct nvmf_qpair *qp, const char *what, char *err, size_t errlen);
/* "what failed: <status in words> (status 0x....)". */
void nvmf_err_status(uint16_t status, const char *what, char *err, size_t errlen);
/* How a lost command is reported in a result's rc. */
int nvmf_lost_rc(const struct nvmf_qpair *qp);

/* poll_group.c */
void nvmf_poll_group_mark_dirty(struct nvmf_qpair *qp);
void nvmf_poll_group_wake_changed(struct nvmf_qpair *qp);
/* Runs fn(arg) at the end of the group's current (or next) turn. */
int nvmf_poll_group_defer(struct nvmf_poll_group *pg, void (*fn)(void *arg), void *arg);
int nvmf_io_exact(struct nvmf_stream *s, void *buf, size_t len, bool send,
    int timeout_ms);
int nvmf_read_term_req(struct nvmf_stream *s, const struct nvme_tcp_common_hdr *ch,
    char *err, size_t errlen, int timeout_ms);

/* host.c */
/* Gives a new host queue pair its command slots; frees it (not its stream) on failure. */
struct nvmf_qpair *nvmf_host_qpair_ready(struct nvmf_qpair *qp, char *err, size_t errlen);
/* Completes every outstanding command with a NULL completion. */
void nvmf_host_drop_all(struct nvmf_qpair *qp);

#endif /* NVMF_QPAIR_H */
