/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * hostd.h - nvmf-hostd, the host "driver": controllers taken over from
 * nvmecontrol, their queues driven by one event loop, namespaces as files.
 */
#ifndef HOSTD_H
#define HOSTD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon_log.h"
#include "nvmf/libnvmf.h"

#define HOSTD_MAX_IO_QUEUES	64
#define HOSTD_ADMIN_TIMEOUT_MS	10000

struct hd_ctrl;
struct hd_queue;
struct hd_loop;
struct json_object;

/* -------------------------------------------------------------- run dir */
struct hd_rundir {
	char path[4096];
	char sock[4200];
	char devctl[4200];
	char dev[4200];
	char pidfile[4200];
	int lock_fd;
};

/* Creates DIR and locks it for this process; -1 with err (e.g. another hostd). */
int hd_rundir_open(struct hd_rundir *rd, const char *path, char *err, size_t errlen);
void hd_rundir_write_pid(struct hd_rundir *rd);
void hd_rundir_close(struct hd_rundir *rd);
const char *hd_rundir_default(void);

/* ------------------------------------------------- who may use the files */
/*
 * Owner, group and mode of the namespace files (access.c), as a block
 * device's: root:disk 0660 unless --owner, --group, --mode say otherwise.
 * The kernel enforces them (FUSE default_permissions).
 */
struct hd_access {
	uid_t uid;
	gid_t gid;
	mode_t mode;			/* permission bits only */
};

extern struct hd_access hd_access;

/* Parse an option's value into hd_access; -1 with err on a bad value. */
int hd_access_owner(const char *arg, char *err, size_t errlen);
int hd_access_group(const char *arg, char *err, size_t errlen);
int hd_access_mode(const char *arg, char *err, size_t errlen);
/* The group when --group is not given: "disk" (see access.c). */
void hd_access_default_group(void);
/* dev/'s own mode: search and list for whom the files give any access. */
mode_t hd_access_dir_mode(void);
/* A socket peer that may use nvf.sock or devctl: root or hostd's own user. */
bool hd_peer_allowed(int fd);

/* ------------------------------------------------- control message fields */
/*
 * Typed getters for a request's fields (jfield.c). The first field that is
 * missing, of the wrong type or out of range leaves a one-line error naming
 * it in err; getters then return defaults (strings: "" or dflt, never NULL).
 */
struct hd_jf {
	struct json_object *obj;	/* NULL: absent after an error */
	char where[64];			/* "", "controller", "queues[2]" */
	char *err;
	size_t errlen;
};

void hd_jf_init(struct hd_jf *f, struct json_object *obj, const char *where, char *err,
    size_t errlen);
bool hd_jf_ok(const struct hd_jf *f);
const char *hd_jf_str(struct hd_jf *f, const char *key, size_t maxlen);
const char *hd_jf_str_or(struct hd_jf *f, const char *key, size_t maxlen, const char *dflt);
int64_t hd_jf_int(struct hd_jf *f, const char *key, int64_t min, int64_t max);
int64_t hd_jf_int_or(struct hd_jf *f, const char *key, int64_t min, int64_t max,
    int64_t dflt);
bool hd_jf_bool_or(struct hd_jf *f, const char *key, bool dflt);
/* A nested object (required); its fields report under "key.". */
bool hd_jf_object(struct hd_jf *f, const char *key, struct hd_jf *child);
/* An array (required) of min..max entries, and its i-th entry as an object. */
struct json_object *hd_jf_array(struct hd_jf *f, const char *key, size_t min, size_t max);
bool hd_jf_element(struct hd_jf *f, const char *key, struct json_object *array, size_t i,
    struct hd_jf *child);

/* ------------------------------------------------------------ requests */
/*
 * One command for the event loop to run: from a FUSE thread (I/O), the
 * control thread or the task thread (admin). The submitter waits on it, or
 * its callback reports it on the loop thread. The submitter fills it in;
 * once submitted it is the loop's until it completes.
 */
struct hd_cmd {
	struct hd_cmd *next;
	struct hd_ctrl *ctrl;
	bool admin;
	struct nvme_command sqe;
	void *buf;
	uint32_t len;
	bool to_controller;
	/* results */
	bool done;
	int error;			/* 0, or -errno: the command never completed */
	struct nvme_completion cqe;
	/* completion: a waiter, or a callback run on the loop thread */
	struct hd_waiter *waiter;
	void (*cb)(struct hd_cmd *cmd);
	void *owner;			/* for cb: what the command is part of */
};

/* Several commands waited for together (an I/O split by MDTS). */
struct hd_waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned pending;
};

void hd_waiter_init(struct hd_waiter *w);
void hd_waiter_wait(struct hd_waiter *w);
void hd_waiter_destroy(struct hd_waiter *w);

/* ------------------------------------------------------------ the loop */
struct hd_loop *hd_loop_start(char *err, size_t errlen);
void hd_loop_stop(struct hd_loop *loop);
/*
 * Queues commands for the loop (any thread); their waiter/cb reports. The
 * loop is woken only if it sleeps: a busy loop takes them on its next turn.
 */
void hd_loop_submit(struct hd_loop *loop, struct hd_cmd *cmds, unsigned n);
/* Runs fn(arg) on the loop thread and waits for it. */
void hd_loop_call(struct hd_loop *loop, void (*fn)(void *), void *arg);
/* Whether this thread is the loop now (the loop thread, or one holding its turn). */
bool hd_loop_on_loop(void);
/*
 * Another descriptor for the loop to poll, in its poll group's epoll set:
 * cb(arg, events) runs on the loop when it is readable.
 */
int hd_loop_watch(struct hd_loop *loop, int fd, nvmf_poll_group_fd_cb cb, void *arg);
void hd_loop_unwatch(struct hd_loop *loop, int fd);
/* Blocking admin command through the loop; 0 (check cqe) or -errno. */
int hd_admin_sync(struct hd_loop *loop, struct hd_ctrl *c, const struct nvme_command *sqe,
    void *buf, uint32_t len, struct nvme_completion *cqe);

/* Loop-thread side, called by the loop for controllers. */
int hd_loop_add_queue(struct hd_loop *loop, struct hd_ctrl *c, uint16_t qid);
void hd_loop_remove_queues(struct hd_loop *loop, struct hd_ctrl *c);
void hd_loop_timers_changed(void);
/* After queueing a command from the loop thread: the poll group sends it this turn. */
void hd_loop_kick(void);

/* ------------------------------------------------------- controllers */
enum hd_ctrl_state {
	HD_CTRL_CONNECTED,		/* queues up, I/O flows */
	HD_CTRL_DISCONNECTED,		/* association lost: I/O held, timers run */
	HD_CTRL_RECONNECTING,		/* as DISCONNECTED, and a reconnect holds the lease */
	HD_CTRL_DETACHED,		/* controller loss timer fired: on its way out */
	HD_CTRL_DELETING,		/* disconnect under way */
};

/*
 * ctrl, nsid, name, ino and lba_shift are fixed before the namespace is
 * linked. nlbas and gone change under the registry lock (a rescan, a
 * removal) and FUSE reads them on every I/O without it: atomic.
 */
struct hd_namespace {
	struct hd_namespace *next;	/* registry lock */
	struct hd_ctrl *ctrl;
	uint32_t nsid;
	char name[32];			/* nvme0ns1 */
	uint64_t ino;
	_Atomic uint64_t nlbas;
	uint32_t lba_shift;
	int refs;			/* the controller's + open files' (registry lock) */
	_Atomic bool gone;
	pthread_mutex_t rmw_lock;	/* serialises read-modify-write of partial blocks */
	struct timespec appeared;	/* the file's times, as a block device's (fixed) */
};

/* What the controller was connected with: kept to reconnect it. */
struct hd_ctrl_params {
	char transport[8];
	char traddr[256];
	char trsvcid[32];
	char subnqn[NVMF_NQN_MAX_LEN + 1];
	char hostnqn[NVMF_NQN_MAX_LEN + 1];
	char hostid[40];
	uint32_t kato_ms;
	int reconnect_delay;
	int ctrl_loss_tmo;
	int fast_io_fail_tmo;
	uint32_t nr_io_queues;
	uint32_t queue_size;
	bool hdr_digest;
	bool data_digest;
	bool sq_flow_control;
	/*
	 * "kind": a discovery controller (Identify's CNTRLTYPE) has the admin
	 * queue alone, no namespaces, and its log's changes raise
	 * DISCOVERY_CHANGE. Never changes: a reconnect must bring the same kind.
	 */
	bool discovery;
};

struct hd_queue {
	struct hd_ctrl *ctrl;
	struct nvmf_qpair *qp;
	uint16_t qid;
};

/*
 * Who may touch what. "Registry lock": read and written under it, on any
 * thread. "Loop": the loop thread's alone (others only before the
 * controller is registered, or through hd_loop_call). "Loop, registry
 * lock": written only on the loop thread and under the lock, so the loop
 * reads it freely and every other thread reads it under the lock.
 */
struct hd_ctrl {
	struct hd_ctrl *next;		/* registry lock */
	unsigned index;			/* nvme<index>: set when registered, then fixed */
	char name[16];			/* as index */
	int refs;			/* registry + users (registry lock) */
	/*
	 * Changed only under the registry lock (leases, disconnects and the
	 * loop's losses, detaches and installs all decide on it there); read
	 * without the lock anywhere, the loop's I/O path included: atomic.
	 */
	_Atomic enum hd_ctrl_state state;
	bool disconnecting;		/* a disconnect owns it (registry lock) */
	bool state_dropped;		/* its state file is gone for good (state.c, registry lock) */
	/*
	 * params.discovery, copied before the controller is registered and
	 * fixed from then on (a reconnect of another kind is refused): any
	 * thread reads it without the lock, where params may be replaced.
	 */
	bool discovery;
	/*
	 * The hand-off has answered: the controller exists for users. Until
	 * then it raises no event and no lookup finds it (loop, registry
	 * lock: it reads it for losses and timers).
	 */
	bool announced;
	pthread_mutex_t scan_lock;	/* one namespace scan at a time */
	/*
	 * A reconnect's install replaces these together (loop, registry lock):
	 * params change on the loop thread alone, so its timers read them
	 * freely; before the controller is registered (hand-off, restore) its
	 * creator fills them in. Other threads copy them under the lock.
	 */
	struct hd_ctrl_params params;
	struct nvme_identify_controller id;
	uint16_t cntlid;
	_Atomic uint32_t max_transfer;	/* from MDTS, bytes; FUSE's I/O reads it unlocked */
	/* The association and its queues (loop). */
	struct nvmf_association *na;
	struct hd_queue queues[HOSTD_MAX_IO_QUEUES + 1];
	uint32_t nqueues;		/* admin + I/O */
	uint32_t rr;			/* next I/O queue to try */
	/* loop-thread state (loop) */
	struct hd_cmd *backlog, *backlog_tail;	/* waiting for a free slot */
	/* Dropped by a failed queue pair before the loss was reported. */
	struct hd_cmd *dropped, *dropped_tail;
	uint64_t ka_next_ms;
	uint64_t ka_sent_ms;
	bool ka_outstanding;
	struct hd_cmd ka_cmd;
	struct hd_cmd aer_cmd;
	bool aer_outstanding;
	unsigned inflight;		/* commands handed to a queue pair */
	bool detach_queued;
	/* while disconnected: devlist shows these (loop, registry lock) */
	struct hd_cmd *held, *held_tail;	/* I/O waiting for the association */
	unsigned nheld;
	uint64_t lost_at_ms;
	uint64_t next_event_ms;		/* next RECONNECT event */
	unsigned events;		/* RECONNECT events raised since the loss */
	bool fast_failed;		/* fast_io_fail_tmo passed: I/O fails */
	char lost_reason[200];
	unsigned attempts;		/* reconnects tried since the loss (registry lock) */
	struct hd_lease_owner *lease;	/* the client reconnecting it (registry lock) */
	struct hd_namespace *namespaces;	/* registry lock */
};

/* Registry (registry.c): names, lookups, references. */
void hd_registry_lock(void);
void hd_registry_unlock(void);
/* Links c under the lowest free nvme<N>, or under idx (false: taken). */
void hd_registry_add(struct hd_ctrl *c);
bool hd_registry_add_at(struct hd_ctrl *c, unsigned idx);
void hd_registry_remove(struct hd_ctrl *c);
struct hd_ctrl *hd_ctrl_find(const char *name);	/* takes a reference */
void hd_ctrl_ref(struct hd_ctrl *c);		/* another reference to one held */
void hd_ctrl_put(struct hd_ctrl *c);
/* Every controller matching target (nvmeX, nvmeXnsY or SubNQN), referenced. */
unsigned hd_ctrl_match(const char *target, struct hd_ctrl **out, unsigned max);
/* Up to max controllers, announced or not, referenced. */
unsigned hd_ctrls_snapshot(struct hd_ctrl **out, unsigned max);
struct hd_ctrl *hd_ctrls_first(void);		/* walk with the registry lock held */
const char *hd_ctrl_state_name(enum hd_ctrl_state s);
/* A copy of the kept parameters, taken under the registry lock. */
void hd_ctrl_params_get(const struct hd_ctrl *c, struct hd_ctrl_params *p);

/*
 * The schema of the kept parameters (ctrl_params.c), shared by the
 * hand-off, reconnect-begin, the list reply and the state files: every
 * field, its range and its default. hd_params_read reports the first bad
 * field in f's error.
 */
void hd_params_read(struct hd_jf *f, struct hd_ctrl_params *p);
void hd_params_write(struct json_object *o, const struct hd_ctrl_params *p);
void hd_json_add_str(struct json_object *o, const char *k, const char *v);
void hd_json_add_int(struct json_object *o, const char *k, int64_t v);

/* Controllers as clients see them (ctrl_list.c). */
struct json_object *hd_ctrl_list_json(void);
struct json_object *hd_ctrl_params_json(const struct hd_ctrl *c);

/* Coming and going (controller.c). */
/* NULL with err, *invalid set when the request itself was bad. */
struct hd_ctrl *hd_ctrl_handoff(struct json_object *req, int *fds, unsigned nfds,
    bool *invalid, char *err, size_t errlen);
int hd_ctrl_disconnect(struct hd_ctrl *c, char *err, size_t errlen);
void hd_ctrls_disconnect_all(void);

/* Lifecycle and timers on the loop thread (ctrl_timers.c). */
/* The association is gone (socket error, bad PDU, silence): loop thread. */
void hd_ctrl_lost(struct hd_ctrl *c, const char *why);
/* Runs a controller's due timers; returns when it next needs to run. */
uint64_t hd_ctrl_timers(struct hd_ctrl *c, uint64_t now);
void hd_ctrl_start_loop_work(struct hd_ctrl *c);	/* keep-alive + AER, on the loop */

/*
 * The I/O path (ctrl_io.c), loop thread unless said otherwise: commands
 * onto the queue pairs or the backlog, held while disconnected, replayed.
 */
void hd_cmd_dispatch(struct hd_cmd *cmd);
/* Completes a command that will not run, with error. */
void hd_cmd_fail(struct hd_cmd *cmd, int error);
/* Commands parked for a free slot: held for the next association, or failed. */
void hd_ctrl_drop_backlog(struct hd_ctrl *c, int error);
/* Commands a failed queue pair gave back: held or failed as a loss decides. */
void hd_ctrl_settle_dropped(struct hd_ctrl *c);
void hd_ctrl_hold(struct hd_ctrl *c, struct hd_cmd *cmd);
void hd_ctrl_fail_held(struct hd_ctrl *c, int error);
void hd_ctrl_replay_held(struct hd_ctrl *c);
bool hd_ctrl_holds_io(const struct hd_ctrl *c);
/* Any thread, through the loop: a new controller's queues join it (0 or
 * -errno); every queue leaves and held I/O fails; nothing in flight. */
int hd_ctrl_queues_start(struct hd_ctrl *c);
void hd_ctrl_queues_stop(struct hd_ctrl *c);
bool hd_ctrl_idle(struct hd_ctrl *c);

/* Namespaces (namespace.c). */
int hd_ns_scan(struct hd_ctrl *c, char *err, size_t errlen);
struct hd_namespace *hd_ns_lookup_name(const char *name);	/* referenced */
struct hd_namespace *hd_ns_lookup_ino(uint64_t ino);		/* referenced */
void hd_ns_get(struct hd_namespace *ns);	/* another reference to one held */
void hd_ns_put(struct hd_namespace *ns);
void hd_ns_remove_all(struct hd_ctrl *c);
uint64_t hd_ns_size(const struct hd_namespace *ns);
/* [off, off+len) cut at the namespace's end: what is left of len, maybe 0. */
size_t hd_ns_clamp(const struct hd_namespace *ns, size_t len, uint64_t off);
/* Blocking write, waiting for the loop: bytes done or -errno. Handles
 * alignment (read-modify-write of partial blocks) and MDTS. */
ssize_t hd_ns_write(struct hd_namespace *ns, const void *buf, size_t len, uint64_t off);
int hd_ns_deallocate(struct hd_namespace *ns, uint64_t off, uint64_t len);
int hd_ns_write_zeroes(struct hd_namespace *ns, uint64_t off, uint64_t len);
/* Snapshot of every namespace name (for readdir); caller frees. */
unsigned hd_ns_names(char (**names)[32], uint64_t **inos);
/* When dev/ last gained or lost a file (its mtime): hostd's start before any. */
void hd_ns_dir_time(struct timespec *ts);
/*
 * Reads or writes of nblocks whole blocks from slba, split by MDTS: per from
 * hd_ns_blocks_per_cmd (read once per request: a reconnect may change it).
 * Fills zeroed cmds (none when NULL); returns how many there are.
 */
uint32_t hd_ns_blocks_per_cmd(const struct hd_namespace *ns);
unsigned hd_ns_rw_fill(const struct hd_namespace *ns, uint32_t per, bool write, void *buf,
    uint64_t slba, uint64_t nblocks, struct hd_cmd *cmds);
/* A finished command's outcome: 0 or -errno (ENOSPC past the end, else EIO). */
int hd_cmd_errno(const struct hd_cmd *cmd);

/*
 * Requests answered from their completion (io.c): the caller's thread builds
 * the commands and hands them to the loop; done(arg, result) runs once, on
 * the loop thread (or on the caller's, before return, when the request ends
 * without the loop). result is -errno or, for reads and writes, the bytes
 * done; data is what a read returns, valid until done returns. Each request
 * holds its namespace (and so its controller) until done has run.
 */
typedef void (*hd_io_done)(void *arg, ssize_t result, const void *data);
void hd_io_read(struct hd_namespace *ns, size_t len, uint64_t off, hd_io_done done,
    void *arg);
void hd_io_write(struct hd_namespace *ns, const void *buf, size_t len, uint64_t off,
    hd_io_done done, void *arg);
void hd_io_flush(struct hd_namespace *ns, hd_io_done done, void *arg);
/* Whether hd_io_write returns at once; else it waits (partial blocks, the end). */
bool hd_io_write_async(const struct hd_namespace *ns, size_t len, uint64_t off);
/* Before any thread starts: how the requests' memory is kept. */
void hd_io_init(void);
/* Waits up to timeout_ms for every request to be done; false if some are not. */
bool hd_io_drain(int timeout_ms);
/* Requests handed to the loop and not yet done. */
unsigned hd_io_inflight(void);

/*
 * State files (state.c): $rundir/state/nvmeN.json, the kept parameters of
 * every announced controller, so that a restarted nvmf-hostd has them.
 * Save and remove from any thread but the loop (they fsync); a removal is
 * final. hd_state_restore, at start-up before the control socket opens,
 * links a disconnected controller under each file's name (a bad file: one
 * line, moved aside as .bad); hd_state_announce, once clients can reach
 * nvmf.sock, makes them visible and raises DISCONNECTED, the loss timers
 * starting then. hd_state_freeze keeps every file from then on (exit).
 */
int hd_state_restore(char *err, size_t errlen);
void hd_state_announce(void);
void hd_state_save(struct hd_ctrl *c);
void hd_state_remove(struct hd_ctrl *c);
void hd_state_freeze(void);
/* At exit, after the controllers: the directory goes if no file is kept. */
void hd_state_close(void);

/* FUSE (fuse_fs.c). */
int hd_fuse_start(const char *mountpoint, char *err, size_t errlen);
void hd_fuse_stop(void);
void hd_fuse_forget_name(const char *name);
/*
 * Requests read by the loop (fuse_dispatch.c): reads, writes and fsyncs
 * handled there, the rest run by worker threads. hd_fuse_defer runs
 * fn(arg) on a worker (0, or -errno if it cannot); stop returns false if
 * a worker was still busy after timeout_ms.
 */
struct fuse_session;
int hd_fuse_dispatch_start(struct fuse_session *se, char *err, size_t errlen);
bool hd_fuse_dispatch_stop(int timeout_ms);
int hd_fuse_defer(void (*fn)(void *arg), void *arg);

/* Reconnecting (reconnect.c): a lease per attempt, held I/O replayed. */
enum hd_lease_result { HD_LEASE_OK, HD_LEASE_CONNECTED, HD_LEASE_BUSY, HD_LEASE_GONE };
/*
 * A control client as the holder of leases: its address names them. held
 * counts the leases it was granted and has not ended itself (registry
 * lock); a lease that ended otherwise (the loss timer, a disconnect) stays
 * counted, so it is never less than what the client holds.
 */
struct hd_lease_owner {
	unsigned held;
};
enum hd_lease_result hd_reconnect_begin(struct hd_ctrl *c, struct hd_lease_owner *owner);
int hd_reconnect_finish(struct hd_ctrl *c, struct hd_lease_owner *owner,
    struct json_object *req, int *fds, unsigned nfds, bool *invalid, char *err,
    size_t errlen);
void hd_reconnect_abort(struct hd_ctrl *c, struct hd_lease_owner *owner, const char *why);
/*
 * Drops every lease owner holds (its control connection closed): a walk
 * of the controllers, unless it ended all it was granted itself.
 */
void hd_reconnect_release_owner(struct hd_lease_owner *owner);
/*
 * Jitter (--reconnect-jitter): the RECONNECT events of a lost controller
 * come at a phase drawn once per loss from [0, jitter), kept below its
 * reconnect delay, so that the controllers of one lost target reconnect
 * spread out. -1: 10 % of each controller's reconnect delay; 0: none.
 */
extern int hd_reconnect_jitter_ms;
/*
 * --busy-poll-us: the loop polls without sleeping for so long after it last
 * had something to do (a request, a reply, a wake-up); 0 sleeps at once.
 */
extern unsigned hd_busy_poll_us;
/* --tcp-congestion: the queue pairs' TCP congestion control; "": the system's. */
extern char hd_tcp_congestion[NVMF_TCP_CONGESTION_LEN];
/* How long the RECONNECT event of controller name waits now, ms (events.c). */
unsigned hd_reconnect_event_delay(const char *name);

/* A hand-off or reconnect request, read and checked (handoff_msg.c). */
struct hd_handoff_msg {
	struct hd_ctrl_params params;
	uint16_t cntlid;
	struct nvme_identify_controller id;
	uint32_t nqueues;			/* admin + I/O */
	struct nvmf_qpair_handoff queues[HOSTD_MAX_IO_QUEUES + 1];
};

/* Whether Identify Controller data is a discovery controller's. */
bool hd_identify_is_discovery(const struct nvme_identify_controller *id);
/* 0, or -1 with err naming the field or the inconsistency: a bad request. */
int hd_handoff_parse(struct json_object *req, unsigned nfds, struct hd_handoff_msg *m,
    char *err, size_t errlen);

/* Hand-off pieces shared by connect and reconnect (ctrl_io.c). */
int hd_adopt_queues(struct hd_ctrl *c, const struct hd_handoff_msg *m,
    struct nvmf_association **na, struct hd_queue *queues, int *fds, char *err,
    size_t errlen);
/* The most one command may transfer, from Identify's MDTS. */
uint32_t hd_max_transfer(const struct nvme_identify_controller *id);
/*
 * Whether a namespace's Identify data describes one this host can serve as a
 * file (LBA format, block size, metadata, size, MDTS): *shift the block
 * size's log2, or false with why in one line (namespace.c).
 */
bool hd_ns_usable(uint32_t max_transfer, const struct nvme_identify_namespace *id,
    uint32_t *shift, char *why, size_t whylen);

/*
 * Discovery controllers (discovery.c): a Discovery Log Page Change notice,
 * or a reconnect (the log may have changed meanwhile), reads the log's
 * header on the task thread (which lets the controller notify the next
 * change) and raises DISCOVERY_CHANGE for the rule's connect-all. Any
 * thread; takes its own reference.
 */
void hd_discovery_changed(struct hd_ctrl *c, const char *why);

/* Events on $rundir/devctl (events.c). */
int hd_events_start(const char *path, char *err, size_t errlen);
void hd_events_stop(void);
void hd_event_raise(const char *type, const char *name);

/* Control socket (control.c). */
int hd_control_start(const char *path, char *err, size_t errlen);
void hd_control_stop(void);

/*
 * Pools of threads for queued jobs (workers.c): min threads kept, one more
 * while all are busy up to max, the extra ones gone after idle_s idle
 * seconds (0: kept). run: 0, -ENOMEM, -ESHUTDOWN once stopping, -EAGAIN if
 * no thread at all could take it. stop: queued jobs still run; false if a
 * thread was still busy after timeout_ms (-1: no limit). A pool lives as
 * long as the process: once stopped, run says -ESHUTDOWN.
 */
struct hd_workers;
struct hd_workers *hd_workers_new(unsigned min, unsigned max, unsigned idle_s, size_t stack,
    char *err, size_t errlen);
int hd_workers_run(struct hd_workers *w, void (*fn)(void *arg), void *arg);
bool hd_workers_stop(struct hd_workers *w, int timeout_ms);
/* Frees a pool that stopped with all its threads gone, when nobody may run on it. */
void hd_workers_free(struct hd_workers *w);

/* The task thread (tasks.c): lifecycle work off the I/O path. */
int hd_tasks_start(char *err, size_t errlen);
void hd_tasks_stop(void);
void hd_task_queue(void (*fn)(void *), void *arg);

/* Globals owned by main.c. */
extern struct hd_loop *hd_loop;
extern struct hd_rundir hd_rd;

/* Clocks (clock.c): monotonic milliseconds, and realtime deadlines. */
uint64_t hd_now_ms(void);
uint64_t hd_now_us(void);	/* the same clock, finer: --busy-poll-us */
/* timeout_ms from now on CLOCK_REALTIME, for pthread's timed waits. */
void hd_realtime_deadline(struct timespec *dl, int timeout_ms);

#endif /* HOSTD_H */
