/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * nvmecontrol.h - the command line of the nvmf host: the fabrics commands of
 * FreeBSD's nvmecontrol(8) with nvme-cli's long option names.
 *
 * Conventions: a command returns its exit status (0, EXIT_ERROR, EXIT_USAGE).
 * Helpers return 0 / -1 and leave a one-line cause in an err buffer; the
 * command prints it once as "nvmecontrol: <cause>".
 */
#ifndef NVMECONTROL_H
#define NVMECONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvmf/libnvmf.h"
#include "base64.h"		/* lib/util: base64 for the control protocol */
#include "ctrl_defaults.h"	/* lib/util: the defaults nvmf-hostd assumes too */
#include "decimal.h"		/* lib/util: every number is decimal */

struct json_object;

#define EXIT_ERROR		1
#define EXIT_USAGE		2
#define EXIT_CONNECTED		3	/* reconnect: the controller is connected */
#define EXIT_BUSY		4	/* reconnect: another reconnect is under way */
#define ERRLEN			512

#define DEFAULT_RUNDIR		"/run/nvmf"
#define DEFAULT_NVME_PORT	"4420"
#define DEFAULT_DISCOVERY_PORT	"8009"
#define DEFAULT_TIMEOUT_MS	10000		/* dial, and each exchange */
#define DEFAULT_KATO_MS		NVMF_DEFAULT_KATO_MS
#define DISCOVERY_KATO_MS	0
#define PERSISTENT_DISCOVERY_KATO_MS	30000	/* nvme-cli's for a kept discovery controller */
#define DEFAULT_RECONNECT_DELAY	NVMF_DEFAULT_RECONNECT_DELAY
#define DEFAULT_CTRL_LOSS_TMO	NVMF_DEFAULT_CTRL_LOSS_TMO
#define DEFAULT_QUEUE_SIZE_CAP	128		/* default MQES+1, at most this */
#define ADMIN_QUEUE_SIZE	32		/* NVMF_MIN_ADMIN_MAX_SQ_SIZE */
#define MAX_IO_QUEUES		64

/* ----------------------------------------------------------------- main.c */
extern const char *progname;
/* "nvmecontrol: <message>" on stderr. */
void errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---------------------------------------------------------------- usage.c */
/* Cause line (if fmt), then the command's usage line; returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void print_usage(const char *cmd, bool to_stderr);

/* -------------------------------------------------------------- options.c */
enum output_format { OUTPUT_NORMAL, OUTPUT_JSON };

/* Where a controller is: address and service, as given or defaulted. */
struct target_addr {
	char address[256];		/* without brackets */
	char port[32];
	bool port_given;
};

/* Everything connect / connect-all / discover take on the command line. */
struct fabric_opts {
	const char *transport;		/* "tcp" */
	const char *address;		/* positional or --traddr */
	const char *trsvcid;		/* --trsvcid */
	const char *subnqn;		/* positional or --nqn */
	const char *hostnqn;		/* -q */
	const char *hostid;		/* -I */
	uint16_t cntlid;		/* -c: NVMF_CNTLID_DYNAMIC unless given */
	bool cntlid_given;
	uint32_t nr_io_queues;		/* -i */
	uint32_t queue_size;		/* -Q, 0 = MQES+1 (capped) */
	uint32_t kato_ms;		/* -k */
	bool kato_given;
	int reconnect_delay;		/* -r, seconds */
	int ctrl_loss_tmo;		/* -l, seconds, 0 = never */
	int fast_io_fail_tmo;		/* --fast-io-fail-tmo, -1 = off */
	bool flow_control;		/* -F requests SQ flow control; -d asks to disable it */
	bool flow_control_given;
	bool duplicate_connect;		/* -D */
	bool hdr_digest;		/* -g */
	bool data_digest;		/* -G */
	bool verbose;			/* -v */
	bool persistent;		/* connect-all -p: the discovery controller stays */
	const char *device;		/* connect-all --device: a kept discovery controller */
	int timeout_ms;			/* --timeout */
	enum output_format output;	/* -o */
};

void fabric_opts_init(struct fabric_opts *o);

/*
 * Parses argv for command cmd ("connect", "connect-all", "discover") into o;
 * positional arguments are left at argv[*first..argc). Returns 0, or an exit
 * status (usage error already reported; 0-with-help is -1 → caller exits 0).
 */
int fabric_opts_parse(const char *cmd, int argc, char **argv, struct fabric_opts *o,
    int *first);

/*
 * address[:port], [v6]:port, [v6], bare v6, host name. A missing port is
 * defport (NULL: required). 0, or -1 with err.
 */
int parse_address(const char *in, const char *defport, struct target_addr *out,
    char *err, size_t errlen);
/* "address:port" for messages: brackets around IPv6 addresses. */
void format_address(const char *address, const char *port, char *buf, size_t len);

/* Durations: "120" (unit), "500ms", "2s", "3m", "1h". 0 or -1. */
int parse_duration_ms(const char *s, int64_t default_unit_ms, int64_t *ms);
int parse_output_format(const char *s, enum output_format *out);
/* The run directory: --rundir, else $NVMF_RUNDIR, else /run/nvmf. */
const char *rundir_get(void);
void rundir_set(const char *dir);

/* ------------------------------------------------------------ cli_parse.c */
/* Reports getopt_long's '?' or ':' as a usage error; returns EXIT_USAGE. */
int getopt_error(const char *cmd, int ch, char **argv);
/*
 * A surplus operand of cmd, as a usage error: named as the value of the
 * option before it when that option takes none ("-F 5"). EXIT_USAGE.
 */
int unexpected_argument(const char *cmd, const char *surplus);
bool option_takes_no_value(const char *cmd, int letter);

/* -------------------------------------------------------------- hostnqn.c */
struct host_ids {
	char hostnqn[NVMF_NQN_MAX_LEN + 1];
	char hostid_str[37];
	uint8_t hostid[16];
};
/* As libnvme finds or makes them (hostnqn.c says how); 0 or -1 with err. */
int host_ids_get(const char *hostnqn_arg, const char *hostid_arg, struct host_ids *ids,
    char *err, size_t errlen);
/* $LIBNVME_HOSTNQN, else the hostnqn file; NULL when neither (caller frees). */
char *hostnqn_configured(void);
/* libnvme's nvmf_hostnqn_generate(); NULL on failure (caller frees). */
char *hostnqn_generate(void);
/* nvme-cli's configuration directory: $NVMF_NVME_CONFDIR, else /etc/nvme. */
const char *nvme_confdir(void);
/* confdir/name into buf; -1 when it does not fit. */
int nvme_conf_path(const char *name, char *buf, size_t len);
int uuid_parse(const char *s, uint8_t out[16]);
void uuid_format(const uint8_t in[16], char out[37]);
bool nqn_valid(const char *nqn);

/* -------------------------------------------------------------- control.c */
struct control;
/* Connects to $rundir/nvmf.sock; NULL with err ("nvmf-hostd is not running: ..."). */
struct control *control_open(char *err, size_t errlen);
void control_close(struct control *c);
/*
 * Sends req (and fds, SCM_RIGHTS) and waits up to timeout_ms for the reply.
 * Returns the reply object (caller puts it) when "ok" is true; NULL with err
 * (hostd's "error" when it refused, *code set to its "code" if code != NULL).
 */
struct json_object *control_call(struct control *c, struct json_object *req,
    const int *fds, unsigned nfds, int timeout_ms, char *code, size_t codelen,
    char *err, size_t errlen);
/* Opens, checks nvmf-hostd answers ("list"), returns its controllers. */
struct json_object *control_list(char *err, size_t errlen);
/* The same, of one subsystem only (hostd older than the filter: all of them). */
struct json_object *control_list_subsystem(const char *subnqn, char *err, size_t errlen);

/* ---------------------------------------------------------------- admin.c */
/*
 * Runs sqe (a command that reads len bytes) on ctrl's admin queue through
 * nvmf-hostd. 0 with *status (the NVMe status; buf filled when it is 0),
 * or -1 with err when it could not be run.
 */
int admin_read(const char *ctrl, const struct nvme_command *sqe, void *buf, uint32_t len,
    int timeout_ms, uint16_t *status, char *err, size_t errlen);

/* ----------------------------------------------------------------- util.c */
/*
 * A controller operand: "nvmeX" or nvme-cli's "/dev/nvmeX" into out;
 * EXIT_USAGE after the message when it is neither.
 */
int controller_operand(const char *cmd, const char *arg, char *out, size_t len);
/* Copies a fixed-width, space-padded identify string, trimmed, printable. */
void id_string(char *dst, size_t dstlen, const char *src, size_t srclen);
/* A discovery log record as discover -o json shows it (discover.c). */
struct nvmf_discovery_log_entry;
struct json_object *discover_entry_json(const struct nvmf_discovery_log_entry *e);
const char *json_get_string(struct json_object *o, const char *key, const char *dflt);
int64_t json_get_int(struct json_object *o, const char *key, int64_t dflt);
void print_json(struct json_object *o);
/* " (nvme0ns1, nvme0ns2)" in namespace order; nothing for an empty list. */
void print_namespace_names(struct json_object *names);

/* ------------------------------------------------------------ duplicate.c */
bool same_address(const char *a, const char *b);
/*
 * The name of the controller in ctrls (nvmf-hostd's list) with the same
 * SubNQN, address, port and host NQN, or NULL.
 */
const char *existing_controller(struct json_object *ctrls, const char *subnqn,
    const char *traddr, const char *trsvcid, const char *hostnqn);

/* ---------------------------------------------------------- association.c */
/* What connect builds an association from. */
struct assoc_request {
	struct target_addr addr;
	const char *subnqn;
	const struct host_ids *ids;
	const struct fabric_opts *opts;
	uint16_t cntlid;		/* NVMF_CNTLID_DYNAMIC */
	/*
	 * A discovery controller kept by nvmf-hostd: the admin queue alone,
	 * with Discovery Log Page Change notices enabled when it has them.
	 */
	bool discovery;
	/* reconnect: the controller whose lease ctl holds, and that connection */
	const char *reconnect_name;
	struct control *ctl;
};
/*
 * Builds the association and hands it to nvmf-hostd. On success returns 0
 * with the controller's name (and its namespaces, as a JSON array the
 * caller puts, when namespaces != NULL). On failure nothing is left
 * connected and err names the cause.
 */
int association_connect(const struct assoc_request *r, char *name, size_t namelen,
    struct json_object **namespaces, char *err, size_t errlen);

/*
 * A discovery controller's admin queue, enabled: used by discover and
 * connect-all. Returns the queue pair (free with nvmf_qpair_free) or NULL.
 */
struct nvmf_qpair *discovery_connect(const struct target_addr *addr,
    const struct host_ids *ids, int timeout_ms, char *err, size_t errlen);

/* ----------------------------------------------------------- commands */
int cmd_discover(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_connect_all(int argc, char **argv);
int cmd_reconnect(int argc, char **argv);
int cmd_disconnect(int argc, char **argv);
int cmd_disconnect_all(int argc, char **argv);
int cmd_devlist(int argc, char **argv);
int cmd_identify(int argc, char **argv);
int cmd_gen_hostnqn(int argc, char **argv);
int cmd_show_hostnqn(int argc, char **argv);
int cmd_reset(int argc, char **argv);
int cmd_ns_rescan(int argc, char **argv);
int cmd_get_log(int argc, char **argv);
int cmd_list_subsys(int argc, char **argv);
/*
 * connect.c: connect's command line (argv[0] "connect"); skip_existing: a
 * controller nvmf-hostd already holds is no error (connect-all's entries).
 */
int connect_entry(int argc, char **argv, bool skip_existing);
/* connect_all.c: connect-all from one discovery controller; from_conf names the file. */
int connect_all_discovery(int argc, char **argv, const char *from_conf);
/*
 * config_json.c: connect-all's entries of config.json (argv: connect-all's
 * command line). -1 when there is no config.json; else 0 with how many
 * entries ran and how many failed.
 */
int connect_all_config_json(int argc, char **argv, unsigned *ran, unsigned *failed);

/*
 * reconnect.c: with the lease of ctrl_name held on ctl and its kept
 * parameters, rebuilds the association (options in o not given are the
 * kept ones) and prints the result; gives the lease back on failure.
 * Returns the exit status.
 */
void reconnect_opts_init(struct fabric_opts *o);
/* After reconnect_opts_init and parsing: what was not given, its default. */
void fabric_opts_defaults(struct fabric_opts *o);
int reconnect_leased(struct control *ctl, const char *cmd, const char *ctrl_name,
    struct json_object *kept, struct fabric_opts *o, const char *addr_arg);

/*
 * discovery_log.c: the whole discovery log of a discovery controller that
 * nvmf-hostd holds, read through it (Get Log Page); *log is malloc'd
 * (header, then numrec entries). 0, or -1 with err.
 */
int hostd_discovery_log(const char *ctrl, struct nvmf_discovery_log_header **log,
    int timeout_ms, char *err, size_t errlen);
/* Whether Identify Controller data is a discovery controller's. */
bool identify_is_discovery(const struct nvme_identify_controller *id);

/* reconnect.c: options not given on the command line taken from kept parameters. */
void fabric_opts_merge_kept(struct fabric_opts *o, struct json_object *kept);

/* discover.c: names used by discover's text and JSON output and connect-all. */
const char *trtype_name(uint8_t trtype);
const char *adrfam_name(uint8_t adrfam);

#endif /* NVMECONTROL_H */
