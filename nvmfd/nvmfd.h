/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * nvmfd.h - the NVMe/TCP target daemon: its configuration, namespaces,
 * controllers and connections.
 */
#ifndef NVMFD_H
#define NVMFD_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "nvmf/libnvmf.h"

#define NVMFD_VERSION		"0.1"
#define NVMFD_MAX_NAMESPACES	1024
#define NVMFD_QUEUE_SIZE	128	/* MQES + 1 */
#define NVMFD_MAX_IO_QUEUES	64
#define NVMFD_MAX_AER		4
#define NVMFD_MAX_EVENTS	4	/* one per notice kind, masked until read */
#define NVMFD_MAX_CHANGED_NS	1024	/* entries of the Changed Namespace List */

/* Asynchronous Event Configuration bits and their notices (NVMe base). */
#define NVMFD_AEN_NS_ATTR		(1u << 8)
#define NVMFD_AEN_DISC_CHANGE		(1u << 31)
#define NVMFD_AER_NOTICE_DISC_CHANGED	0xf0
#define NVMFD_LOG_RAE			(1u << 15)	/* Get Log Page cdw10 */
#define NVMFD_MDTS		8	/* 2^8 pages of 4 KiB: 1 MiB */
#define NVMFD_MAX_TRANSFER	(4096u << NVMFD_MDTS)

#include "daemon_log.h"
#include "decimal.h"

/* ------------------------------------------------------------ devices */
struct nvmfd_device;

struct nvmfd_device *nvmfd_device_open(const char *spec, uint32_t block_size,
    char *err, size_t errlen);
void nvmfd_device_close(struct nvmfd_device *dev);
uint64_t nvmfd_device_size(const struct nvmfd_device *dev);
const char *nvmfd_device_spec(const struct nvmfd_device *dev);
bool nvmfd_device_is_file(const struct nvmfd_device *dev);
/*
 * A size in bytes: decimal digits, then K, M, G or T (powers of 1024, an
 * optional B after); 0 or -1 with the reason in err.
 */
int nvmfd_parse_size(const char *s, uint64_t *out, char *err, size_t errlen);
/* 0 or -errno. fua: durable before return. */
int nvmfd_device_read(struct nvmfd_device *dev, void *buf, uint64_t off, uint32_t len);
int nvmfd_device_write(struct nvmfd_device *dev, const void *buf, uint64_t off,
    uint32_t len, bool fua);
int nvmfd_device_flush(struct nvmfd_device *dev);
int nvmfd_device_write_zeroes(struct nvmfd_device *dev, uint64_t off, uint64_t len);
int nvmfd_device_deallocate(struct nvmfd_device *dev, uint64_t off, uint64_t len);
/* A ramdisk's memory (its blocks, in place), or NULL for a file or device. */
uint8_t *nvmfd_device_mem(const struct nvmfd_device *dev);
/* A file's or block device's descriptor, or -1 for a ramdisk. */
int nvmfd_device_fd(const struct nvmfd_device *dev);
bool nvmfd_device_is_block(const struct nvmfd_device *dev);
/* Whether every part of a ramdisk range has been written (is in memory). */
bool nvmfd_device_mem_touched(const struct nvmfd_device *dev, uint64_t off, uint64_t len);
bool nvmfd_device_mem_unwritten(const struct nvmfd_device *dev, uint64_t off, uint64_t len);
void nvmfd_device_mem_touch(struct nvmfd_device *dev, uint64_t off, uint64_t len);

/* ------------------------------------------------------------- io_uring */
/*
 * A connection's ring (uring.c). Each operation carries a nvmfd_ring_op
 * whose done runs, from nvmfd_ring_reap on the connection's thread, with
 * the result (bytes or -errno) once the kernel has answered.
 */
struct nvmfd_ring;
struct nvmfd_ring_op {
	void (*done)(struct nvmfd_ring_op *op, int res);
};

/* NULL when io_uring cannot be used (or NVMFD_NO_URING): said once per process. */
struct nvmfd_ring *nvmfd_ring_create(void);
/* Waits for every operation in flight, then frees the ring. */
void nvmfd_ring_free(struct nvmfd_ring *r);
/* An eventfd readable when completions wait: poll it beside the socket. */
int nvmfd_ring_fd(const struct nvmfd_ring *r);
unsigned nvmfd_ring_inflight(const struct nvmfd_ring *r);
/* Prepare an operation (sent with the next submit): 0 or -errno. */
int nvmfd_ring_read(struct nvmfd_ring *r, struct nvmfd_ring_op *op, int fd, void *buf,
    uint32_t len, uint64_t off);
int nvmfd_ring_write(struct nvmfd_ring *r, struct nvmfd_ring_op *op, int fd,
    const void *buf, uint32_t len, uint64_t off, bool dsync);
int nvmfd_ring_fdatasync(struct nvmfd_ring *r, struct nvmfd_ring_op *op, int fd);
int nvmfd_ring_fallocate(struct nvmfd_ring *r, struct nvmfd_ring_op *op, int fd,
    int mode, uint64_t off, uint64_t len);
/* Hands what was prepared to the kernel: once per turn of the connection's loop. */
void nvmfd_ring_submit(struct nvmfd_ring *r);
/* Runs done for each completion there is, without waiting; how many. */
unsigned nvmfd_ring_reap(struct nvmfd_ring *r);
/* Waits until nothing is in flight (a connection going away). */
void nvmfd_ring_drain(struct nvmfd_ring *r);

/* ------------------------------------------------------ configuration */

/*
 * Resource limits (nvmfd.8, LIMITS): each a JSON key and a long option (the
 * key with '-' for '_'); nvmfd_limit_defs gives names, ranges and defaults.
 */
enum nvmfd_limit {
	NVMFD_LIMIT_CONNECTIONS,	/* TCP connections served at once */
	NVMFD_LIMIT_HOST_ASSOCIATIONS,	/* associations of one host NQN */
	NVMFD_LIMIT_DISCOVERY_ASSOCIATIONS,
	NVMFD_LIMIT_QUEUE_DATA,		/* command data bytes a queue holds */
	NVMFD_LIMIT_ICREQ_TIMEOUT,	/* seconds from accept to ICReq */
	NVMFD_LIMIT_CONNECT_TIMEOUT,	/* seconds from accept to Connect */
	NVMFD_LIMIT_DISCOVERY_KATO,	/* seconds, for discovery KATO 0 */
	NVMFD_LIMIT_BUSY_POLL,		/* µs an I/O queue polls after traffic */
	NVMFD_NLIMITS
};

struct nvmfd_limit_def {
	const char *key;		/* JSON key */
	const char *option;		/* long option */
	const char *unit;
	uint32_t min, max, def;
};

extern const struct nvmfd_limit_def nvmfd_limit_defs[NVMFD_NLIMITS];
/* A limit's value from the command line: decimal only; 0 or -1 with err. */
int nvmfd_limit_parse(enum nvmfd_limit l, const char *s, uint32_t *out, char *err,
    size_t errlen);
/*
 * Whether an NQN may be named in the configuration: "nqn.", at most 223
 * bytes, no control characters. NULL or why not.
 */
const char *nvmfd_nqn_invalid(const char *nqn);

/*
 * A namespace never changes once made: a reload that changes its device or
 * block size puts a new one in the slot. The slot (ss->ns[]) holds one
 * reference and each I/O command in flight one more (nvmfd_ns_get): the
 * last put closes the device, so a command racing a removal finishes on
 * the device it started on.
 */
struct nvmfd_namespace {
	atomic_int refs;
	uint32_t nsid;
	uint32_t lba_shift;
	uint64_t nlbas;
	struct nvmfd_device *dev;
	uint8_t nguid[16];
	uint8_t uuid[16];
	uint8_t eui64[8];
};

struct nvmfd_port {
	uint16_t id;
	char address[64];		/* numeric, "" for every address */
	uint16_t port;
	bool discovery_only;		/* FreeBSD's -P listener */
};

/*
 * Who owns what (SIGHUP reloads the configuration while connections run):
 * - nqn, serial, model, strict never change while the subsystem lives.
 * - ns[], nns, hosts, nhosts, ports, nports are replaced by a reload under
 *   the configuration lock held for writing; connection threads read them
 *   with it held for reading (nvmfd_config_rdlock), and not a moment longer.
 * - lock guards controllers and next_cntlid; taken after the configuration
 *   lock, before a controller's lock.
 * - refs: one for being in the configuration, one per controller; the last
 *   put frees it, so a controller of a subsystem a reload removed still
 *   finds its subsystem while its queues wind down.
 */
struct nvmfd_subsystem {
	char nqn[NVMF_NQN_MAX_LEN + 1];
	char serial[21];
	char model[41];
	struct nvmfd_namespace *ns[NVMFD_MAX_NAMESPACES];
	uint32_t nns;
	char **hosts;			/* allowed host NQNs; none: any host */
	uint32_t nhosts;
	uint16_t *ports;		/* port ids this subsystem is reachable on */
	uint32_t nports;
	int8_t strict;			/* -1: as the configuration's "strict" */
	atomic_int refs;
	pthread_mutex_t lock;
	uint16_t next_cntlid;
	struct nvmfd_controller *controllers;
};

/*
 * The running configuration. What a reload (reload.c) may change, under the
 * configuration lock held for writing: subsystems, nsubsystems, genctr and
 * the live parts of each subsystem (above). Everything else is fixed from
 * start to exit: a reload that finds it changed says it takes a restart.
 */
struct nvmfd_config {
	struct nvmfd_port *ports;
	uint32_t nports;
	struct nvmfd_subsystem **subsystems;
	uint32_t nsubsystems;
	/*
	 * Conformance mode: refuse the deviations served by default (nvmfd.8,
	 * DEVIATIONS); a subsystem's own "strict" overrides it.
	 */
	bool strict;
	/*
	 * Transport permissions: granted when a host asks, as Linux nvmet does,
	 * unless the configuration forbids them; in strict mode only with
	 * FreeBSD's -g -G -F (or the configuration key set to true).
	 */
	bool header_digests;
	bool data_digests;
	int8_t header_digests_key;	/* -1 absent, else the key's value */
	int8_t data_digests_key;
	int8_t disable_sq_fc_key;
	bool allow_disable_sq_fc;	/* -F */
	uint32_t max_h2c_data;
	uint32_t io_icd_size;
	uint32_t max_io_queues;
	uint64_t genctr;		/* discovery log generation (nvmfd_genctr_next) */
	uint32_t limit[NVMFD_NLIMITS];
	/* The queue pairs' TCP congestion control; "": the system's default. */
	char tcp_congestion[NVMF_TCP_CONGESTION_LEN];
};

/*
 * The configuration lock (one per process): readers are connection threads
 * looking something up (Connect, discovery log, Identify, an I/O command's
 * namespace), the writer is a reload. Writers are preferred, so a reload
 * is not starved by I/O; a reader must not take it twice.
 */
void nvmfd_config_rdlock(void);
void nvmfd_config_wrlock(void);
void nvmfd_config_unlock(void);
/*
 * The namespace nsid of ss with a reference held (NULL: none); the caller
 * puts it when its command is done. Takes the configuration lock briefly.
 */
struct nvmfd_namespace *nvmfd_ns_get(struct nvmfd_subsystem *ss, uint32_t nsid);
void nvmfd_ns_put(struct nvmfd_namespace *ns);
/* One more reference to a namespace the caller holds one of. */
void nvmfd_ns_hold(struct nvmfd_namespace *ns);
void nvmfd_subsystem_get(struct nvmfd_subsystem *ss);
void nvmfd_subsystem_put(struct nvmfd_subsystem *ss);
/*
 * The next discovery generation counter: greater than prev and not below
 * the wall clock in microseconds, so a restarted nvmfd never goes back to a
 * value an earlier run gave another discovery log.
 */
uint64_t nvmfd_genctr_next(uint64_t prev);


/* From the command line (FreeBSD's options): returns 0 or -1 with err. */
struct nvmfd_options {
	bool foreground;
	bool strict;
	int verbose;
	bool header_digests, data_digests, allow_disable_sq_fc;
	uint32_t max_h2c_data;
	const char *address;
	int discovery_port;		/* -1: default, 0: none */
	int port;
	const char *subnqn;
	const char *config_file;
	char **devices;
	int ndevices;
	int64_t limit[NVMFD_NLIMITS];	/* -1: not given */
	const char *tcp_congestion;	/* NULL: not given */
};

int nvmfd_config_from_options(struct nvmfd_config *cfg, const struct nvmfd_options *o,
    char *err, size_t errlen);
/*
 * SIGHUP: reads o->config_file again and applies what changed (reload.c);
 * a file that does not load leaves the running configuration alone. One
 * log line says what changed, or why nothing did.
 */
void nvmfd_reload(struct nvmfd_config *cfg, const struct nvmfd_options *o);
int nvmfd_config_load_json(struct nvmfd_config *cfg, const char *path, char *err,
    size_t errlen);
/* Settles the permissions once the command line and the file are read. */
void nvmfd_config_resolve(struct nvmfd_config *cfg, const struct nvmfd_options *o);
void nvmfd_config_free(struct nvmfd_config *cfg);
/* Whether deviations are refused for hosts of ss (NULL: discovery). */
bool nvmfd_strict(const struct nvmfd_config *cfg, const struct nvmfd_subsystem *ss);
/* Whether a host may disable SQ flow control on queues of ss. */
bool nvmfd_sq_fc_disable_permitted(const struct nvmfd_config *cfg,
    const struct nvmfd_subsystem *ss);
/* Adds a namespace from a device spec; nsid 0 picks the next free one. */
int nvmfd_subsystem_add_namespace(struct nvmfd_subsystem *ss, uint32_t nsid,
    const char *spec, uint32_t block_size, char *err, size_t errlen);
struct nvmfd_subsystem *nvmfd_subsystem_new(const char *nqn);
bool nvmfd_subsystem_on_port(const struct nvmfd_subsystem *ss, uint16_t port_id);
bool nvmfd_subsystem_allows(const struct nvmfd_subsystem *ss, const char *hostnqn);
struct nvmfd_namespace *nvmfd_subsystem_ns(const struct nvmfd_subsystem *ss,
    uint32_t nsid);

/* ------------------------------------------------------- controllers */
struct nvmfd_conn;

struct nvmfd_controller {
	struct nvmfd_controller *next;	/* in the subsystem's list */
	struct nvmfd_subsystem *ss;	/* NULL: the discovery controller */
	const struct nvmfd_config *cfg;
	uint16_t cntlid;
	char hostnqn[NVMF_NQN_FIELD_LEN];	/* as nvmet reads it: up to 255 bytes */
	uint8_t hostid[16];
	pthread_mutex_t lock;
	int refs;			/* connections attached */
	atomic_bool dead;		/* association over: set under lock, read by queue threads */
	uint32_t cc;
	uint32_t csts;
	uint32_t kato_ms;
	atomic_long last_traffic_ms;
	uint32_t num_io_queues;		/* granted by Set Features */
	uint32_t aec;			/* async event configuration */
	uint32_t feat[256];		/* other settable features, by FID */
	struct nvmfd_conn **queues;	/* [0] admin, [1..num] I/O */
	uint32_t nqueues;
	struct nvmf_capsule *aer[NVMFD_MAX_AER];
	uint32_t naer;
	uint64_t data_units_read, data_units_written, host_reads, host_writes;
	uint32_t deviations_logged;	/* NVMFD_DEV_* bits: one line each */
	bool counted;			/* in the association limits */
	uint16_t port_id;		/* the port its admin queue came in on */
	/*
	 * Asynchronous events, under lock. A reload (any thread) queues them;
	 * only the admin queue's thread completes AERs with them
	 * (nvmfd_controller_deliver_events), as the capsules are its queue's.
	 */
	uint32_t aen_masked;		/* AEC bits reported, their log not read yet */
	uint32_t events[NVMFD_MAX_EVENTS];	/* AER cdw0 values waiting for an AER */
	uint32_t nevents;
	uint32_t changed_ns[NVMFD_MAX_CHANGED_NS];
	uint32_t nchanged_ns;		/* UINT32_MAX: more changed than fit */
	struct nvmfd_controller *disc_next;	/* discovery controllers (controller.c) */
};

/* Host deviations nvmfd serves as nvmet does (and refuses with --strict). */
enum nvmfd_deviation {
	NVMFD_DEV_PDO = 1u << 0,	/* PDO set in a capsule without data */
	NVMFD_DEV_HOSTNQN = 1u << 1,	/* empty or not an NQN */
	NVMFD_DEV_QID = 1u << 2,	/* I/O queue beyond Number of Queues */
	NVMFD_DEV_HOSTID = 1u << 3,	/* another Host Identifier on an I/O queue */
};

struct nvmfd_controller *nvmfd_controller_create(struct nvmfd_subsystem *ss,
    const struct nvmfd_config *cfg, const char *hostnqn, const uint8_t hostid[16],
    uint32_t kato_ms);
void nvmfd_controller_release(struct nvmfd_controller *c);
struct nvmfd_controller *nvmfd_controller_find(struct nvmfd_subsystem *ss,
    uint16_t cntlid);
/* Ends the association: every queue of the controller is shut down. */
void nvmfd_controller_kill(struct nvmfd_controller *c, const char *why);
void nvmfd_controller_touch(struct nvmfd_controller *c);
/* True the first time a deviation is seen on the association. */
bool nvmfd_controller_first_deviation(struct nvmfd_controller *c,
    enum nvmfd_deviation d);
bool nvmfd_controller_kato_expired(struct nvmfd_controller *c);
int nvmfd_controller_attach_queue(struct nvmfd_controller *c, uint16_t qid,
    struct nvmfd_conn *conn);
void nvmfd_controller_detach_queue(struct nvmfd_controller *c, uint16_t qid,
    struct nvmfd_conn *conn);
uint16_t nvmfd_controller_property_get(struct nvmfd_controller *c, uint32_t ofst,
    bool eight, uint64_t *value);
uint16_t nvmfd_controller_property_set(struct nvmfd_controller *c, uint32_t ofst,
    bool eight, uint64_t value);
const char *nvmfd_controller_name(const struct nvmfd_controller *c);
/*
 * Queues a notice (AER cdw0 from type Notice, info and log page) when the
 * host enabled aec_bit and no notice of that kind waits for its log page to
 * be read, as nvmet does; true when queued. Any thread.
 */
bool nvmfd_controller_notice(struct nvmfd_controller *c, uint32_t aec_bit, uint8_t info,
    uint8_t lid);
/* Adds NSIDs to the Changed Namespace List, then the notice. Any thread. */
bool nvmfd_controller_ns_changed(struct nvmfd_controller *c, const uint32_t *nsids,
    uint32_t n);
/* Completes held AERs with queued events: the admin queue's thread only. */
void nvmfd_controller_deliver_events(struct nvmfd_controller *c);
/* The host read the log page of aec_bit's notice (without RAE): unmask it. */
void nvmfd_controller_aen_clear(struct nvmfd_controller *c, uint32_t aec_bit);
/* Copies the Changed Namespace List out and empties it. */
void nvmfd_controller_take_changed_ns(struct nvmfd_controller *c,
    struct nvme_changed_ns_list *l);
/*
 * Calls fn for every controller of ss (ss->lock held: fn may kill or notify
 * but not release), or of the discovery service when ss is NULL.
 */
void nvmfd_controllers_foreach(struct nvmfd_subsystem *ss,
    void (*fn)(struct nvmfd_controller *c, void *arg), void *arg);

/* ------------------------------------------------------------- limits */
/* A new connection: true when under max_connections (then counted). */
bool nvmfd_limit_connection_take(const struct nvmfd_config *cfg, uint32_t *open);
void nvmfd_limit_connection_put(void);
/*
 * A new association of hostnqn (discovery or not): 0 when under its limits
 * (then counted), else -1 with the refusal ("3 associations of this host
 * open (max_host_associations 3)") in why.
 */
int nvmfd_limit_association_take(const struct nvmfd_config *cfg, const char *hostnqn,
    bool discovery, char *why, size_t len);
void nvmfd_limit_association_put(const char *hostnqn, bool discovery);

/* --------------------------------------------------------- connections */
struct nvmfd_listener {
	struct nvmfd_port *port;
	const struct nvmfd_config *cfg;
	struct nvmf_association *na;
	int fd;
	pthread_t thread;
	atomic_bool stopping;	/* accept says EMFILE even once shut down */
};

struct nvmfd_conn {
	struct nvmfd_conn *next, *prev;	/* live connections (connection.c) */
	struct nvmfd_listener *listener;
	const struct nvmfd_config *cfg;
	struct nvmf_qpair *qp;
	int fd;
	char peer[80];
	struct nvmfd_controller *ctrl;
	uint16_t qid;
	bool connected;			/* Connect succeeded */
	uint64_t last_traffic_us;	/* --busy-poll-us: the last poll that found work */
	bool strict_refusal;		/* a deviation ended it in strict mode */
	uint32_t deviations_logged;	/* NVMFD_DEV_* seen before a controller */
	bool close_after_flush;		/* Disconnect command */
	/* File I/O: made at the first file command; NULL until then or without io_uring. */
	struct nvmfd_ring *ring;
	bool ring_tried;
};

int nvmfd_listeners_start(struct nvmfd_config *cfg, struct nvmfd_listener **out,
    uint32_t *count, char *err, size_t errlen);
/* Stops accepting (joins the accept threads); free once connections are gone. */
void nvmfd_listeners_stop(struct nvmfd_listener *l, uint32_t count);
void nvmfd_listeners_free(struct nvmfd_listener *l, uint32_t count);
void nvmfd_conn_spawn(struct nvmfd_listener *l, int fd, const struct sockaddr_storage *peer);
/*
 * Shutdown: ends every connection and waits up to timeout_ms for their
 * threads to be done with the configuration; false when some are not.
 */
bool nvmfd_conns_stop(int timeout_ms);

/* Command handling, by queue kind. Each completes or keeps the capsule. */
void nvmfd_handle_connect(struct nvmfd_conn *conn, struct nvmf_capsule *nc);
void nvmfd_admin_command(struct nvmfd_conn *conn, struct nvmf_capsule *nc);
void nvmfd_discovery_command(struct nvmfd_conn *conn, struct nvmf_capsule *nc);
void nvmfd_io_command(struct nvmfd_conn *conn, struct nvmf_capsule *nc);
/* Placement callback of I/O queues: a ramdisk Write's data lands in place. */
void nvmfd_io_place(void *arg, struct nvmf_capsule *nc);
/* Fabrics commands every admin queue takes (Property Get/Set, Disconnect). */
bool nvmfd_fabrics_command(struct nvmfd_conn *conn, struct nvmf_capsule *nc);
/*
 * Get Log Page data for the discovery controller; clear_aen: the read
 * unmasks the discovery log change notice (no RAE).
 */
uint32_t nvmfd_discovery_log(struct nvmfd_conn *conn, uint8_t **out, bool clear_aen);
void nvmfd_identify_discovery_controller(const struct nvmfd_controller *c,
    struct nvme_identify_controller *id);

/* Helpers shared by the command handlers. */
void nvmfd_complete(struct nvmf_capsule *nc, uint16_t status);
/*
 * The command's data buffer when its SGL describes len bytes (at least, or
 * exactly); otherwise the command is completed with the error and NULL
 * returned.
 */
void *nvmfd_capsule_buffer(struct nvmf_capsule *nc, uint32_t len, bool exact);
uint16_t nvmfd_get_log_common(struct nvmfd_conn *conn, struct nvmf_capsule *nc,
    const void *log, uint64_t loglen);
void nvmfd_pad_copy(char *dst, size_t dstlen, const char *src);
uint64_t nvmfd_now_ms(void);

#endif /* NVMFD_H */
