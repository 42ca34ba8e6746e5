/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * test_qpair.c - real queue pairs over socket pairs: the ICReq/ICResp
 * handshake, commands with and without data in both directions, and the
 * reaction of each side to a hostile peer.
 *
 * Two kinds of fixture:
 *  - a real host and a real controller (connect_pair): the handshake runs
 *    the controller's accept in a thread, then one thread drives both sides
 *    alternately with nvmf_qpair_process;
 *  - one real side against a raw socket the test writes and reads itself
 *    (raw_host_connect / raw_ctrl_connect), to send malformed PDUs and read
 *    back exactly what the library answers (termination requests included).
 * The raw side is written with byte offsets from the NVMe/TCP specification.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvmf/libnvmf.h"
#include "nvmf_pdu.h"
#include "nvmf_qpair.h"
#include "nvmf_stream.h"

#define TIMEOUT_MS	3000
#define STORE_SIZE	(2u * 1024 * 1024)
#define MAX_HELD	64

/* PDU types and flags as the specification numbers them. */
#define T_ICREQ		0x00
#define T_ICRESP	0x01
#define T_H2C_TERM	0x02
#define T_C2H_TERM	0x03
#define T_CMD		0x04
#define T_RESP		0x05
#define T_H2C_DATA	0x06
#define T_C2H_DATA	0x07
#define T_R2T		0x09
#define F_HDGST		0x01
#define F_DDGST		0x02
#define F_LAST		0x04
#define F_SUCCESS	0x08

#define SGL_ICD		0x01		/* data block, offset */
#define SGL_TRANSPORT	0x5A		/* transport data block */
#define PSDT_SGL	0x40

/* ---------------------------------------------------------------- fixture */

/* The controller's command handler: a RAM store addressed by CDW10 bytes. */
struct target {
	uint8_t *store;
	unsigned commands;
	struct nvme_command last_sqe;
	uint32_t last_len;
	uint8_t *last_data;		/* copy of the last command's data */
	bool hold;			/* keep capsules instead of completing */
	struct nvmf_capsule *held[MAX_HELD];
	unsigned nheld;
	uint32_t short_read;		/* nonzero: C2H only this many bytes */
};

struct pair {
	struct nvmf_association *hna, *cna;
	struct nvmf_qpair *host, *ctrl;
	int raw;			/* the test's own end, or -1 */
	int spare;			/* fd a failed handshake left behind */
	unsigned completions;
	struct target tgt;
};

struct req {
	struct pair *p;
	bool done;
	bool lost;
	unsigned calls;
	struct nvme_completion cqe;
};

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
fill_pattern(uint8_t *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
}

/*
 * Set while a fixture is torn down: completions of commands a failed test
 * left behind point into its dead stack frame and must not be touched.
 */
static bool tearing_down;

static int
setup_pair(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));

	tearing_down = false;

	if (p == NULL)
		return -1;
	p->raw = -1;
	p->spare = -1;
	p->tgt.store = calloc(1, STORE_SIZE);
	p->tgt.last_data = calloc(1, STORE_SIZE);
	if (p->tgt.store == NULL || p->tgt.last_data == NULL)
		return -1;
	*state = p;
	return 0;
}

static int
teardown_pair(void **state)
{
	struct pair *p = *state;

	tearing_down = true;
	for (unsigned i = 0; i < p->tgt.nheld; i++)
		nvmf_capsule_free(p->tgt.held[i]);
	nvmf_qpair_free(p->host);
	nvmf_qpair_free(p->ctrl);
	nvmf_association_free(p->hna);
	nvmf_association_free(p->cna);
	if (p->raw >= 0)
		close(p->raw);
	if (p->spare >= 0)
		close(p->spare);
	free(p->tgt.store);
	free(p->tgt.last_data);
	free(p);
	return 0;
}

static void
target_handler(void *arg, struct nvmf_capsule *nc)
{
	struct target *t = arg;
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	uint32_t len = nvmf_capsule_data_len(nc), off = sqe->cdw10;
	uint8_t *data = nvmf_capsule_data(nc);

	t->commands++;
	t->last_sqe = *sqe;
	t->last_len = len;
	if (data != NULL && len <= STORE_SIZE)
		memcpy(t->last_data, data, len);
	if (t->hold) {
		assert_true(t->nheld < MAX_HELD);
		t->held[t->nheld++] = nc;
		return;
	}
	if ((sqe->opc == NVME_IO_WRITE || sqe->opc == NVME_IO_READ) &&
	    ((uint64_t)off + len > STORE_SIZE || (len > 0 && data == NULL))) {
		nvmf_capsule_complete(nc, NVME_STATUS(NVME_SCT_GENERIC,
		    NVME_SC_LBA_OUT_OF_RANGE), 0, 0, 0);
		return;
	}
	switch (sqe->opc) {
	case NVME_IO_WRITE:
		memcpy(t->store + off, data, len);
		nvmf_capsule_complete(nc, 0, 0, 0, 0);
		break;
	case NVME_IO_READ:
	case NVME_ADMIN_IDENTIFY:
		if (len > 0)
			memcpy(data, t->store + (sqe->opc == NVME_IO_READ ? off : 0), len);
		nvmf_capsule_complete(nc, 0, 0, 0,
		    t->short_read != 0 && t->short_read < len ? t->short_read : len);
		break;
	default:
		/* Echo CDW11 in CDW0 so the host can tell its answer. */
		nvmf_capsule_complete(nc, 0, sqe->cdw11, 0, 0);
		break;
	}
}

static void
req_done(void *arg, const struct nvme_completion *cqe)
{
	struct req *r = arg;

	if (tearing_down)
		return;
	r->calls++;
	r->done = true;
	if (cqe != NULL)
		r->cqe = *cqe;
	else
		r->lost = true;
	if (r->p != NULL)
		r->p->completions++;
}

static int
process_ok(struct nvmf_qpair *qp)
{
	int rc = nvmf_qpair_process(qp);

	if (rc != 0)
		print_error("queue pair failed: %s\n", nvmf_qpair_error(qp));
	return rc;
}

/* Drives both sides until n completions arrived at the host. */
static void
drive_completions(struct pair *p, unsigned n)
{
	long deadline = now_ms() + TIMEOUT_MS;

	while (p->completions < n) {
		if (now_ms() > deadline)
			fail_msg("only %u of %u completions within %d ms", p->completions,
			    n, TIMEOUT_MS);
		if (p->host != NULL)
			assert_int_equal(process_ok(p->host), 0);
		if (p->ctrl != NULL)
			assert_int_equal(process_ok(p->ctrl), 0);
	}
}

static struct nvmf_association_params
host_params(void)
{
	struct nvmf_association_params a = {
		.size = sizeof(a), .controller = false, .sq_flow_control = true,
	};
	return a;
}

static struct nvmf_association_params
ctrl_params(void)
{
	struct nvmf_association_params a = {
		.size = sizeof(a), .controller = true, .sq_flow_control = true,
	};
	return a;
}

static struct nvmf_association *
make_association(const struct nvmf_association_params *params)
{
	char err[256] = "";
	struct nvmf_association *na = nvmf_association_create(params, err, sizeof(err));

	if (na == NULL)
		fail_msg("association: %s", err);
	return na;
}

struct accept_job {
	struct nvmf_association *na;
	int fd;
	struct nvmf_qpair *qp;
	char err[256];
};

static void *
accept_thread(void *arg)
{
	struct accept_job *j = arg;

	j->qp = nvmf_controller_qpair_accept(j->na, j->fd, TIMEOUT_MS, j->err,
	    sizeof(j->err));
	return NULL;
}

static void
tcp_loopback_pair(int sv[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(l >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &alen), 0);
	sv[0] = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(sv[0] >= 0);
	assert_int_equal(connect(sv[0], (struct sockaddr *)&a, sizeof(a)), 0);
	sv[1] = accept(l, NULL, NULL);
	assert_true(sv[1] >= 0);
	close(l);
}

/*
 * Handshake between a real host and a real controller. Returns the host's
 * error (empty on success); the controller side must always succeed.
 */
static const char *
try_connect_pair(struct pair *p, const struct nvmf_association_params *hp,
    const struct nvmf_association_params *cp, uint16_t qsize, bool admin, bool tcp)
{
	static char herr[256];
	struct accept_job job = { 0 };
	pthread_t th;
	int sv[2];

	herr[0] = '\0';
	p->hna = make_association(hp);
	p->cna = make_association(cp);
	if (tcp)
		tcp_loopback_pair(sv);
	else
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	job.na = p->cna;
	job.fd = sv[1];
	assert_int_equal(pthread_create(&th, NULL, accept_thread, &job), 0);
	p->host = nvmf_host_qpair_create(p->hna, sv[0], qsize, admin, TIMEOUT_MS,
	    herr, sizeof(herr));
	if (p->host == NULL)
		p->spare = sv[0];		/* left open for the caller */
	/* A refused host closes its end so the controller is not left waiting. */
	pthread_join(th, NULL);
	if (job.qp == NULL) {
		close(sv[1]);
		fail_msg("controller accept: %s", job.err);
	}
	p->ctrl = job.qp;
	nvmf_controller_set_handler(p->ctrl, target_handler, &p->tgt);
	return herr;
}

static void
connect_pair_opts(struct pair *p, const struct nvmf_association_params *hp,
    const struct nvmf_association_params *cp, uint16_t qsize, bool admin,
    bool sq_fc, bool tcp)
{
	const char *err = try_connect_pair(p, hp, cp, qsize, admin, tcp);

	if (p->host == NULL)
		fail_msg("host create: %s", err);
	nvmf_controller_qpair_setup(p->ctrl, admin ? 0 : 1, qsize, sq_fc);
}

static void
connect_pair(struct pair *p, const struct nvmf_association_params *hp,
    const struct nvmf_association_params *cp, uint16_t qsize)
{
	connect_pair_opts(p, hp, cp, qsize, false, true, false);
}

/* ------------------------------------------------------------- raw peer */

static void
raw_write(int fd, const void *buf, size_t len)
{
	const uint8_t *b = buf;

	while (len > 0) {
		ssize_t n = send(fd, b, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n > 0);
		b += n;
		len -= (size_t)n;
	}
}

/* Reads exactly len bytes within the timeout: 0, or -1 on EOF or timeout. */
static int
raw_read_exact(int fd, void *buf, size_t len, int timeout_ms)
{
	uint8_t *b = buf;
	long deadline = now_ms() + timeout_ms;

	while (len > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -1;
		n = recv(fd, b, len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one whole PDU; returns its PLEN, or -1 when none arrived. */
static int
raw_read_pdu(int fd, uint8_t *buf, size_t cap)
{
	uint32_t plen;

	if (raw_read_exact(fd, buf, 8, TIMEOUT_MS) != 0)
		return -1;
	plen = le32(buf + 4);
	if (plen < 8 || plen > cap)
		fail_msg("raw peer got a PDU of type 0x%02x with PLEN %u", buf[0], plen);
	if (raw_read_exact(fd, buf + 8, plen - 8, TIMEOUT_MS) != 0)
		fail_msg("raw peer got a truncated PDU of type 0x%02x", buf[0]);
	return (int)plen;
}

/* True when the other side closed (or shut down) its end. */
static bool
raw_sees_eof(int fd)
{
	uint8_t b;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	ssize_t n;

	if (poll(&pfd, 1, TIMEOUT_MS) <= 0)
		return false;
	n = recv(fd, &b, 1, MSG_DONTWAIT);
	/* Closed with our bytes unread, the peer's socket reports a reset. */
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* Nothing arrives within a short time. */
static bool
raw_silent(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 50) == 0;
}

/* Reads the termination request the library sent and checks FES and FEI. */
static void
expect_term_req_at(int fd, uint8_t type, uint16_t fes, uint32_t fei,
    const char *file, int line)
{
	uint8_t pdu[512];
	int n = raw_read_pdu(fd, pdu, sizeof(pdu));

	if (n < 0)
		fail_msg("%s:%d: no termination request arrived", file, line);
	if (pdu[0] != type || le16(pdu + 8) != fes || le32(pdu + 10) != fei)
		fail_msg("%s:%d: expected type 0x%02x FES 0x%x FEI %u, got type 0x%02x "
		    "FES 0x%x FEI %u", file, line, type, fes, fei, pdu[0],
		    le16(pdu + 8), le32(pdu + 10));
	assert_int_equal(pdu[1], 0);
	assert_int_equal(pdu[2], 24);
	assert_int_equal(pdu[3], 0);
	assert_true(n >= 24 && n <= 152);
	/* After a termination request the connection is closed. */
	assert_true(raw_sees_eof(fd));
}
#define expect_c2h_term_req(fd, fes, fei) \
	expect_term_req_at(fd, T_C2H_TERM, fes, fei, __FILE__, __LINE__)
#define expect_h2c_term_req(fd, fes, fei) \
	expect_term_req_at(fd, T_H2C_TERM, fes, fei, __FILE__, __LINE__)

/* A refused handshake leaves the fd open for the caller: close it. */
static void
close_spare(struct pair *p)
{
	close(p->spare);
	p->spare = -1;
}

/* What the raw side negotiated. */
struct raw_link {
	bool hdgst, ddgst;
	uint8_t pda;			/* alignment the real side asked for */
	uint32_t maxh2cdata;
};

/*
 * The test plays the host against a real controller: its ICReq is in the
 * socket before accept runs, so no thread is needed.
 */
static struct raw_link
raw_host_connect(struct pair *p, const struct nvmf_association_params *cp,
    bool hdgst, bool ddgst, uint16_t qsize, bool sq_fc)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct raw_link l = { 0 };
	char err[256];
	int sv[2];

	p->cna = make_association(cp);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	p->raw = sv[0];
	raw_write(p->raw, buf, nvmf_pdu_encode_icreq(buf, 0, hdgst, ddgst, 0));
	p->ctrl = nvmf_controller_qpair_accept(p->cna, sv[1], TIMEOUT_MS, err,
	    sizeof(err));
	if (p->ctrl == NULL)
		fail_msg("accept: %s", err);
	assert_int_equal(raw_read_pdu(p->raw, buf, sizeof(buf)), 128);
	assert_int_equal(buf[0], T_ICRESP);
	l.pda = buf[10];
	l.hdgst = buf[11] & 1;
	l.ddgst = (buf[11] & 2) != 0;
	l.maxh2cdata = le32(buf + 12);
	nvmf_controller_set_handler(p->ctrl, target_handler, &p->tgt);
	nvmf_controller_qpair_setup(p->ctrl, 1, qsize, sq_fc);
	return l;
}

/*
 * The test plays the controller against a real host: its ICResp waits in
 * the socket while the host sends ICReq and reads it.
 */
static void
raw_ctrl_connect_opts(struct pair *p, const struct nvmf_association_params *hp,
    bool hdgst, bool ddgst, uint32_t maxh2cdata, uint16_t qsize, bool admin)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	char err[256];
	int sv[2];

	p->hna = make_association(hp);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	p->raw = sv[1];
	raw_write(p->raw, buf, nvmf_pdu_encode_icresp(buf, 0, hdgst, ddgst, maxh2cdata));
	p->host = nvmf_host_qpair_create(p->hna, sv[0], qsize, admin, TIMEOUT_MS, err,
	    sizeof(err));
	if (p->host == NULL) {
		close(sv[0]);
		fail_msg("host create: %s", err);
	}
	assert_int_equal(raw_read_pdu(p->raw, buf, sizeof(buf)), 128);
	assert_int_equal(buf[0], T_ICREQ);
}

static void
raw_ctrl_connect(struct pair *p)
{
	struct nvmf_association_params hp = host_params();

	raw_ctrl_connect_opts(p, &hp, false, false, 65536, 32, false);
}

static struct nvme_command
make_sqe(uint8_t opc, uint16_t cid, uint8_t sgl_type, uint32_t sgl_len, uint32_t cdw10)
{
	struct nvme_command sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = opc;
	sqe.flags = PSDT_SGL;
	sqe.cid = cid;
	sqe.nsid = 1;
	sqe.sgl.type = sgl_type;
	sqe.sgl.length = sgl_len;
	sqe.cdw10 = cdw10;
	return sqe;
}

/* Sends a CapsuleCmd as a (possibly lying) host would. */
static void
raw_send_capsule(int fd, const struct nvme_command *sqe, const void *data,
    uint32_t len, const struct raw_link *l, bool bad_hdgst, bool bad_ddgst)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	uint32_t n = nvmf_pdu_encode_capsule_cmd(buf, sqe, l->hdgst, l->ddgst, l->pda, len);

	if (bad_hdgst)
		buf[72] ^= 0x01;
	raw_write(fd, buf, n);
	if (len > 0) {
		uint32_t crc = nvmf_crc32c(data, len) ^ (bad_ddgst ? 1u : 0u);

		raw_write(fd, data, len);
		if (l->ddgst)
			raw_write(fd, &crc, 4);
	}
}

static void
raw_send_h2c_data(int fd, uint16_t cid, uint16_t ttag, uint32_t datao,
    const void *data, uint32_t len, bool last, const struct raw_link *l)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	uint32_t n = nvmf_pdu_encode_h2c_data(buf, cid, ttag, datao, len, last, l->hdgst,
	    l->ddgst, l->pda), crc = nvmf_crc32c(data, len);

	raw_write(fd, buf, n);
	raw_write(fd, data, len);
	if (l->ddgst)
		raw_write(fd, &crc, 4);
}

static void
raw_send_resp(int fd, uint16_t cid, uint16_t status, uint16_t sqhd)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_completion cqe = { .cid = cid, .status = (uint16_t)(status << 1),
	    .sqhd = sqhd, .sqid = 1 };

	raw_write(fd, buf, nvmf_pdu_encode_capsule_resp(buf, &cqe, false));
}

static void
raw_send_c2h_data(int fd, uint16_t cid, uint32_t datao, const void *data, uint32_t len,
    bool last, bool success, bool ddgst, bool bad_ddgst)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	uint32_t n = nvmf_pdu_encode_c2h_data(buf, cid, datao, len, last, success, false,
	    ddgst, 0), crc = nvmf_crc32c(data, len) ^ (bad_ddgst ? 0x100u : 0u);

	raw_write(fd, buf, n);
	raw_write(fd, data, len);
	if (ddgst)
		raw_write(fd, &crc, 4);
}

/* Reads the host's next CapsuleCmd on the raw side; returns its CID. */
static uint16_t
raw_read_capsule(int fd, struct nvme_command *sqe_out, uint8_t *data, uint32_t cap)
{
	static uint8_t pdu[16384 + 256];
	int n = raw_read_pdu(fd, pdu, sizeof(pdu));

	assert_true(n >= 72);
	assert_int_equal(pdu[0], T_CMD);
	if (sqe_out != NULL)
		memcpy(sqe_out, pdu + 8, 64);
	if (pdu[3] != 0 && data != NULL) {
		uint32_t dlen = (uint32_t)n - pdu[3] - ((pdu[1] & F_DDGST) ? 4 : 0);

		assert_true(dlen <= cap);
		memcpy(data, pdu + pdu[3], dlen);
	}
	return le16(pdu + 10);
}

static uint16_t
raw_read_resp(int fd, uint8_t *pdu)
{
	int n = raw_read_pdu(fd, pdu, 64);

	assert_int_equal(n, 24);
	assert_int_equal(pdu[0], T_RESP);
	return le16(pdu + 8 + 14) >> 1;		/* status without the phase bit */
}

/* ============================================================ handshake */

static void
test_handshake_without_digests(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	const struct nvmf_qpair_info *hi, *ci;

	hp.pda = 2;
	hp.maxr2t = 3;
	cp.pda = 1;
	cp.max_h2c_data = 65536;
	connect_pair(p, &hp, &cp, 32);
	hi = nvmf_qpair_info(p->host);
	ci = nvmf_qpair_info(p->ctrl);
	assert_false(hi->header_digests);
	assert_false(hi->data_digests);
	assert_false(ci->header_digests);
	assert_false(ci->data_digests);
	assert_int_equal(hi->hpda, 2);
	assert_int_equal(ci->hpda, 2);
	assert_int_equal(hi->cpda, 1);
	assert_int_equal(ci->cpda, 1);
	assert_int_equal(hi->max_h2c_data, 65536);
	assert_int_equal(ci->max_h2c_data, 65536);
	assert_int_equal(ci->maxr2t, 3);
	assert_false(nvmf_qpair_failed(p->host));
	assert_string_equal(nvmf_qpair_error(p->host), "");
	assert_true(nvmf_qpair_fd(p->host) >= 0);
}

static void
test_handshake_with_digests_when_controller_permits(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();

	hp.header_digests = hp.data_digests = true;
	cp.header_digests = cp.data_digests = true;
	connect_pair(p, &hp, &cp, 32);
	assert_true(nvmf_qpair_info(p->host)->header_digests);
	assert_true(nvmf_qpair_info(p->host)->data_digests);
	assert_true(nvmf_qpair_info(p->ctrl)->header_digests);
	assert_true(nvmf_qpair_info(p->ctrl)->data_digests);
}

static void
test_handshake_digests_off_when_host_does_not_ask(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();

	cp.header_digests = cp.data_digests = true;
	connect_pair(p, &hp, &cp, 32);
	assert_false(nvmf_qpair_info(p->host)->header_digests);
	assert_false(nvmf_qpair_info(p->ctrl)->header_digests);
	assert_false(nvmf_qpair_info(p->ctrl)->data_digests);
}

static void
test_handshake_header_digest_only(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();

	hp.header_digests = true;
	cp.header_digests = cp.data_digests = true;
	connect_pair(p, &hp, &cp, 32);
	assert_true(nvmf_qpair_info(p->host)->header_digests);
	assert_false(nvmf_qpair_info(p->host)->data_digests);
	assert_true(nvmf_qpair_info(p->ctrl)->header_digests);
	assert_false(nvmf_qpair_info(p->ctrl)->data_digests);
}

static void
test_handshake_host_fails_when_header_digest_refused(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	const char *err;

	hp.header_digests = true;
	err = try_connect_pair(p, &hp, &cp, 32, false, false);
	assert_null(p->host);
	assert_non_null(strstr(err, "refused header digest"));
	assert_false(nvmf_qpair_info(p->ctrl)->header_digests);
}

static void
test_handshake_host_fails_when_data_digest_refused(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	const char *err;

	hp.data_digests = true;
	cp.header_digests = true;		/* permits only the header digest */
	err = try_connect_pair(p, &hp, &cp, 32, false, false);
	assert_null(p->host);
	assert_non_null(strstr(err, "refused data digest"));
}

static void
test_handshake_bad_icreq_pfv_answered_with_c2h_term_req(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	char err[256];
	int sv[2];

	p->cna = make_association(&cp);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	p->raw = sv[0];
	p->spare = sv[1];
	nvmf_pdu_encode_icreq(buf, 0, false, false, 0);
	buf[8] = 1;				/* PFV */
	raw_write(p->raw, buf, 128);
	assert_null(nvmf_controller_qpair_accept(p->cna, sv[1], TIMEOUT_MS, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "bad ICReq"));
	close_spare(p);
	expect_term_req_at(p->raw, T_C2H_TERM, 0x06, 8, __FILE__, __LINE__);
}

static void
test_handshake_bad_icreq_hpda_answered_with_c2h_term_req(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	char err[256];
	int sv[2];

	p->cna = make_association(&cp);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	p->raw = sv[0];
	p->spare = sv[1];
	raw_write(p->raw, buf, nvmf_pdu_encode_icreq(buf, 32, false, false, 0));
	assert_null(nvmf_controller_qpair_accept(p->cna, sv[1], TIMEOUT_MS, err,
	    sizeof(err)));
	close_spare(p);
	expect_c2h_term_req(p->raw, 0x01, 10);
}

static void
test_handshake_capsule_before_icreq_is_sequence_error(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct nvme_command sqe = make_sqe(NVME_ADMIN_KEEP_ALIVE, 1, 0, 0, 0);
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	char err[256];
	int sv[2];

	p->cna = make_association(&cp);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	p->raw = sv[0];
	p->spare = sv[1];
	raw_write(p->raw, buf, nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, false, 0, 0));
	assert_null(nvmf_controller_qpair_accept(p->cna, sv[1], TIMEOUT_MS, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "CapsuleCmd"));
	close_spare(p);
	expect_c2h_term_req(p->raw, 0x02, 0);
}

/* Host against a raw controller that answers ICReq with the given bytes. */
static const char *
host_against_icresp(struct pair *p, const uint8_t *icresp, size_t len, bool hdgst)
{
	static char err[256];
	struct nvmf_association_params hp = host_params();
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	int sv[2];

	hp.header_digests = hdgst;
	p->hna = make_association(&hp);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	p->raw = sv[1];
	p->spare = sv[0];
	raw_write(p->raw, icresp, len);
	p->host = nvmf_host_qpair_create(p->hna, sv[0], 32, false, 200, err, sizeof(err));
	if (p->host != NULL)
		p->spare = -1;
	assert_int_equal(raw_read_pdu(p->raw, buf, sizeof(buf)), 128);
	assert_int_equal(buf[0], T_ICREQ);
	return err;
}

static void
test_handshake_icresp_bad_maxh2cdata_answered_with_h2c_term_req(void **state)
{
	struct pair *p = *state;
	uint8_t rsp[NVMF_PDU_MAX_PREFIX];
	uint8_t pdu[256];
	const char *err;

	nvmf_pdu_encode_icresp(rsp, 0, false, false, 1000);
	err = host_against_icresp(p, rsp, 128, false);
	assert_null(p->host);
	assert_non_null(strstr(err, "bad ICResp"));
	assert_true(raw_read_pdu(p->raw, pdu, sizeof(pdu)) >= 24);
	assert_int_equal(pdu[0], T_H2C_TERM);
	assert_int_equal(le16(pdu + 8), 0x01);
	assert_int_equal(le32(pdu + 10), 12);
}

static void
test_handshake_icresp_enabling_unrequested_digest_refused(void **state)
{
	struct pair *p = *state;
	uint8_t rsp[NVMF_PDU_MAX_PREFIX];
	uint8_t pdu[256];
	const char *err;

	nvmf_pdu_encode_icresp(rsp, 0, false, true, 8192);
	err = host_against_icresp(p, rsp, 128, false);
	assert_null(p->host);
	assert_non_null(strstr(err, "bad ICResp"));
	assert_true(raw_read_pdu(p->raw, pdu, sizeof(pdu)) >= 24);
	assert_int_equal(pdu[0], T_H2C_TERM);
	assert_int_equal(le16(pdu + 8), 0x01);
	assert_int_equal(le32(pdu + 10), 11);
}

static void
test_handshake_icresp_wrong_type_refused(void **state)
{
	struct pair *p = *state;
	uint8_t rsp[NVMF_PDU_MAX_PREFIX];
	uint8_t pdu[256];
	const char *err;

	nvmf_pdu_encode_icreq(rsp, 0, false, false, 0);	/* an ICReq back */
	err = host_against_icresp(p, rsp, 128, false);
	assert_null(p->host);
	assert_non_null(strstr(err, "bad ICResp"));
	assert_true(raw_read_pdu(p->raw, pdu, sizeof(pdu)) >= 24);
	assert_int_equal(pdu[0], T_H2C_TERM);
	assert_int_equal(le16(pdu + 8), 0x02);
	assert_int_equal(le32(pdu + 10), 0);
}

static void
test_handshake_c2h_term_req_instead_of_icresp(void **state)
{
	struct pair *p = *state;
	uint8_t tr[NVMF_PDU_MAX_PREFIX];
	const char *err;
	uint32_t n = nvmf_pdu_encode_term_req(tr, true, 0x06, 8, NULL, 0);

	err = host_against_icresp(p, tr, n, true);
	assert_null(p->host);
	assert_non_null(strstr(err, "terminated"));
	assert_non_null(strstr(err, "Unsupported Parameter"));
}

static void
test_handshake_times_out_without_icresp(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params();
	char err[256];
	long t0;
	int sv[2];

	p->hna = make_association(&hp);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	p->raw = sv[1];
	p->spare = sv[0];
	t0 = now_ms();
	assert_null(nvmf_host_qpair_create(p->hna, sv[0], 32, false, 100, err,
	    sizeof(err)));
	assert_true(now_ms() - t0 < 1000);
	assert_non_null(strstr(err, "timed out"));
}

static void
test_handshake_peer_closes_before_icresp(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params();
	char err[256];
	int sv[2];

	p->hna = make_association(&hp);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	p->spare = sv[0];
	close(sv[1]);
	assert_null(nvmf_host_qpair_create(p->hna, sv[0], 32, false, TIMEOUT_MS, err,
	    sizeof(err)));
	assert_true(strlen(err) > 0);
}

static void
test_association_parameters_checked(void **state)
{
	struct nvmf_association_params a = ctrl_params();
	struct nvmf_association *na;
	char err[256];
	int sv[2];

	(void)state;
	a.pda = 32;
	assert_null(nvmf_association_create(&a, err, sizeof(err)));
	assert_true(strlen(err) > 0);
	a = ctrl_params();
	a.max_h2c_data = 4095;
	assert_null(nvmf_association_create(&a, err, sizeof(err)));
	a.max_h2c_data = 4098;
	assert_null(nvmf_association_create(&a, err, sizeof(err)));
	a = ctrl_params();
	a.size = 8;
	assert_null(nvmf_association_create(&a, err, sizeof(err)));

	/* A controller association opens no host queues, and vice versa. */
	a = ctrl_params();
	na = make_association(&a);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_null(nvmf_host_qpair_create(na, sv[0], 32, false, 100, err, sizeof(err)));
	nvmf_association_free(na);
	a = host_params();
	na = make_association(&a);
	assert_null(nvmf_controller_qpair_accept(na, sv[1], 100, err, sizeof(err)));
	assert_null(nvmf_host_qpair_create(na, sv[0], 1, false, 100, err, sizeof(err)));
	nvmf_association_free(na);
	close(sv[0]);
	close(sv[1]);
}

/* ============================================================ commands */

static void
test_command_without_data(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	struct nvme_command sqe;
	struct req r = { .p = p };

	connect_pair(p, &hp, &cp, 32);
	nvmf_cmd_set_features(&sqe, NVME_FEAT_NUM_QUEUES, 0x00030003);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, NULL, 0, true, req_done, &r), 0);
	assert_int_equal(nvmf_host_outstanding(p->host), 1);
	drive_completions(p, 1);
	assert_int_equal(p->tgt.commands, 1);
	assert_int_equal(p->tgt.last_sqe.opc, NVME_ADMIN_SET_FEATURES);
	assert_int_equal(p->tgt.last_sqe.cdw10, NVME_FEAT_NUM_QUEUES);
	assert_int_equal(p->tgt.last_sqe.cdw11, 0x00030003);
	assert_int_equal(p->tgt.last_sqe.flags >> 6, 1);	/* PSDT: SGL */
	assert_int_equal(p->tgt.last_len, 0);
	assert_int_equal(r.calls, 1);
	assert_false(r.lost);
	assert_int_equal(NVME_CQE_STATUS(r.cqe.status), 0);
	assert_int_equal(r.cqe.cdw0, 0x00030003);
	assert_int_equal(r.cqe.cid, p->tgt.last_sqe.cid);
	assert_int_equal(r.cqe.sqid, 1);
	assert_int_equal(nvmf_host_outstanding(p->host), 0);
}

static void
test_write_in_capsule(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	struct nvme_command sqe;
	struct req r = { .p = p };
	uint8_t data[4096];

	connect_pair(p, &hp, &cp, 32);
	nvmf_host_qpair_set_icd_size(p->host, 8192);
	fill_pattern(data, sizeof(data), 1);
	nvmf_cmd_rw(&sqe, NVME_IO_WRITE, 1, 0, 8);
	sqe.cdw10 = 4096;			/* byte offset in the test store */
	assert_int_equal(nvmf_host_submit(p->host, &sqe, data, sizeof(data), true,
	    req_done, &r), 0);
	drive_completions(p, 1);
	assert_int_equal(NVME_CQE_STATUS(r.cqe.status), 0);
	assert_int_equal(p->tgt.last_sqe.sgl.type, SGL_ICD);
	assert_int_equal(p->tgt.last_sqe.sgl.length, 4096);
	assert_int_equal(p->tgt.last_len, 4096);
	assert_memory_equal(p->tgt.last_data, data, sizeof(data));
	assert_memory_equal(p->tgt.store + 4096, data, sizeof(data));
}

static void
test_write_in_capsule_on_admin_queue(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	struct nvme_command sqe;
	struct req r = { .p = p };
	uint8_t data[8192];

	/* The admin queue takes 8 KiB in the capsule without being told. */
	connect_pair_opts(p, &hp, &cp, 32, true, true, false);
	fill_pattern(data, sizeof(data), 2);
	nvmf_cmd_rw(&sqe, NVME_IO_WRITE, 1, 0, 16);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, data, sizeof(data), true,
	    req_done, &r), 0);
	drive_completions(p, 1);
	assert_int_equal(NVME_CQE_STATUS(r.cqe.status), 0);
	assert_int_equal(p->tgt.last_sqe.sgl.type, SGL_ICD);
	assert_memory_equal(p->tgt.store, data, sizeof(data));
	assert_int_equal(r.cqe.sqid, 0);
}

static void
test_write_through_r2t_split_by_maxh2cdata(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	struct nvme_command sqe;
	struct req r = { .p = p };
	static uint8_t data[20 * 1024];

	/* A single 20 KiB H2CData would break MAXH2CDATA: the controller
	 * terminates on that, so success means the host split the data. */
	cp.max_h2c_data = 4096;
	cp.io_icd_size = 4096;
	connect_pair(p, &hp, &cp, 32);
	assert_int_equal(nvmf_qpair_info(p->host)->max_h2c_data, 4096);
	fill_pattern(data, sizeof(data), 3);
	nvmf_cmd_rw(&sqe, NVME_IO_WRITE, 1, 0, 40);
	sqe.cdw10 = 65536;
	assert_int_equal(nvmf_host_submit(p->host, &sqe, data, sizeof(data), true,
	    req_done, &r), 0);
	drive_completions(p, 1);
	assert_int_equal(NVME_CQE_STATUS(r.cqe.status), 0);
	assert_int_equal(p->tgt.last_sqe.sgl.type, SGL_TRANSPORT);
	assert_int_equal(p->tgt.last_sqe.sgl.length, sizeof(data));
	assert_memory_equal(p->tgt.store + 65536, data, sizeof(data));
}

/* A controller answering from its own memory (1.2): the zero-copy calls. */
struct zc {
	uint8_t mem[64 * 1024];
	unsigned placed, released;
	bool hold;
	struct nvmf_capsule *held[4];
	unsigned nheld;
};

static void
zc_release(void *arg)
{
	((struct zc *)arg)->released++;
}

static void
zc_place(void *arg, struct nvmf_capsule *nc)
{
	struct zc *z = arg;

	z->placed++;
	assert_int_equal(nvmf_capsule_set_data(nc, z->mem + nvmf_capsule_sqe(nc)->cdw10,
	    zc_release, z), 0);
}

static void
zc_handler(void *arg, struct nvmf_capsule *nc)
{
	struct zc *z = arg;
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	uint8_t *at = z->mem + sqe->cdw10;

	if (sqe->opc == NVME_IO_WRITE) {
		/* The data arrived in place; its home can no longer change. */
		assert_ptr_equal(nvmf_capsule_data(nc), at);
		assert_int_equal(nvmf_capsule_set_data(nc, z->mem, NULL, NULL), -1);
		nvmf_capsule_complete(nc, 0, 0, 0, 0);
		return;
	}
	assert_int_equal(nvmf_capsule_set_data(nc, at, zc_release, z), 0);
	if (z->hold) {
		z->held[z->nheld++] = nc;
		return;
	}
	nvmf_capsule_complete(nc, 0, 0, 0, nvmf_capsule_data_len(nc));
}

static void
test_zero_copy_placement_and_c2h_from_caller_memory(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	static struct zc z;
	static uint8_t big[20 * 1024], small[2048], back[20 * 1024], backs[3][2048];
	struct nvme_command sqe;
	struct req r[6];

	memset(&z, 0, sizeof(z));
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 6; i++)
		r[i].p = p;
	cp.io_icd_size = 4096;
	connect_pair(p, &hp, &cp, 32);
	nvmf_controller_set_handler(p->ctrl, zc_handler, &z);
	nvmf_controller_set_placement(p->ctrl, zc_place, &z);
	fill_pattern(big, sizeof(big), 7);
	fill_pattern(small, sizeof(small), 8);

	/* Through R2T, and in the capsule: both received into z.mem. */
	nvmf_cmd_rw(&sqe, NVME_IO_WRITE, 1, 0, 40);
	sqe.cdw10 = 4096;
	assert_int_equal(nvmf_host_submit(p->host, &sqe, big, sizeof(big), true,
	    req_done, &r[0]), 0);
	nvmf_cmd_rw(&sqe, NVME_IO_WRITE, 1, 0, 4);
	sqe.cdw10 = 40000;
	assert_int_equal(nvmf_host_submit(p->host, &sqe, small, sizeof(small), true,
	    req_done, &r[1]), 0);
	drive_completions(p, 2);
	assert_int_equal(NVME_CQE_STATUS(r[0].cqe.status), 0);
	assert_int_equal(NVME_CQE_STATUS(r[1].cqe.status), 0);
	assert_int_equal(z.placed, 2);
	assert_int_equal(z.released, 2);
	assert_memory_equal(z.mem + 4096, big, sizeof(big));
	assert_memory_equal(z.mem + 40000, small, sizeof(small));

	/* A read sent from z.mem, released once on the wire. */
	nvmf_cmd_rw(&sqe, NVME_IO_READ, 1, 0, 40);
	sqe.cdw10 = 4096;
	assert_int_equal(nvmf_host_submit(p->host, &sqe, back, sizeof(back), false,
	    req_done, &r[2]), 0);
	drive_completions(p, 3);
	assert_int_equal(NVME_CQE_STATUS(r[2].cqe.status), 0);
	assert_memory_equal(back, big, sizeof(back));
	assert_int_equal(z.released, 3);

	/* Corked, completions made outside a turn wait; uncorking sends them. */
	z.hold = true;
	for (int i = 0; i < 3; i++) {
		nvmf_cmd_rw(&sqe, NVME_IO_READ, 1, 0, 4);
		sqe.cdw10 = 40000;
		assert_int_equal(nvmf_host_submit(p->host, &sqe, backs[i], sizeof(backs[i]),
		    false, req_done, &r[3 + i]), 0);
	}
	while (z.nheld < 3) {
		assert_int_equal(process_ok(p->host), 0);
		assert_int_equal(process_ok(p->ctrl), 0);
	}
	nvmf_qpair_cork(p->ctrl);
	for (unsigned i = 0; i < z.nheld; i++)
		nvmf_capsule_complete(z.held[i], 0, 0, 0, sizeof(small));
	assert_true(nvmf_qpair_tx_pending(p->ctrl));
	assert_int_equal(nvmf_qpair_uncork(p->ctrl), 0);
	assert_false(nvmf_qpair_tx_pending(p->ctrl));
	drive_completions(p, 6);
	assert_int_equal(z.released, 6);
	for (int i = 0; i < 3; i++)
		assert_memory_equal(backs[i], small, sizeof(small));
}

static void
test_host_splits_h2c_data_on_the_wire(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params();
	struct nvme_command sqe, got;
	struct req r = { .p = p };
	static uint8_t data[10000];
	uint8_t pdu[8192], r2t[64];
	uint32_t off = 0;
	uint16_t cid;

	raw_ctrl_connect_opts(p, &hp, false, false, 4096, 32, false);
	fill_pattern(data, sizeof(data), 4);
	nvmf_cmd_rw(&sqe, NVME_IO_WRITE, 1, 0, 20);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, data, sizeof(data), true,
	    req_done, &r), 0);
	assert_int_equal(process_ok(p->host), 0);
	cid = raw_read_capsule(p->raw, &got, NULL, 0);
	assert_int_equal(got.sgl.type, SGL_TRANSPORT);
	assert_int_equal(got.sgl.length, sizeof(data));
	/* One R2T for everything; the host splits it by MAXH2CDATA (4096). */
	nvmf_pdu_encode_r2t(r2t, cid, 0x77, 0, sizeof(data), false);
	raw_write(p->raw, r2t, 24);
	assert_int_equal(process_ok(p->host), 0);
	for (int i = 0; i < 3; i++) {
		uint32_t want = i < 2 ? 4096 : 10000 - 8192;

		assert_int_equal(raw_read_pdu(p->raw, pdu, sizeof(pdu)), 24 + want);
		assert_int_equal(pdu[0], T_H2C_DATA);
		assert_int_equal(pdu[1], i == 2 ? F_LAST : 0);
		assert_int_equal(pdu[3], 24);
		assert_int_equal(le16(pdu + 8), cid);
		assert_int_equal(le16(pdu + 10), 0x77);
		assert_int_equal(le32(pdu + 12), off);
		assert_int_equal(le32(pdu + 16), want);
		assert_memory_equal(pdu + 24, data + off, want);
		off += want;
	}
	assert_false(r.done);
	raw_send_resp(p->raw, cid, 0, 1);
	drive_completions(p, 1);
	assert_int_equal(NVME_CQE_STATUS(r.cqe.status), 0);
}

static void
test_read_returns_c2h_data(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	struct nvme_command sqe;
	struct req r = { .p = p };
	static uint8_t buf[16384];

	connect_pair(p, &hp, &cp, 32);
	fill_pattern(p->tgt.store + 8192, sizeof(buf), 5);
	nvmf_cmd_rw(&sqe, NVME_IO_READ, 1, 0, 32);
	sqe.cdw10 = 8192;
	assert_int_equal(nvmf_host_submit(p->host, &sqe, buf, sizeof(buf), false,
	    req_done, &r), 0);
	drive_completions(p, 1);
	assert_int_equal(NVME_CQE_STATUS(r.cqe.status), 0);
	assert_int_equal(p->tgt.last_sqe.sgl.type, SGL_TRANSPORT);
	assert_int_equal(p->tgt.last_sqe.sgl.length, sizeof(buf));
	assert_memory_equal(buf, p->tgt.store + 8192, sizeof(buf));
}

/*
 * A stream that passes everything to the socket's and notes, once a large
 * payload has been read in place, the most any later read into the queue
 * pair's receive buffer asked for.
 */
struct noting_stream {
	struct nvmf_stream base;
	struct nvmf_stream *inner;
	const uint8_t *rxbuf;
	bool in_place_seen;
	size_t most_after;
};

static void
note_read(struct nvmf_stream *s, const void *buf, size_t len)
{
	struct noting_stream *n = (struct noting_stream *)s;

	if ((const uint8_t *)buf != n->rxbuf && len >= 16 * 1024)
		n->in_place_seen = true;
	else if ((const uint8_t *)buf == n->rxbuf && n->in_place_seen && len > n->most_after)
		n->most_after = len;
}

static ssize_t
noting_recv(struct nvmf_stream *s, void *buf, size_t len)
{
	note_read(s, buf, len);
	return nvmf_stream_recv(((struct noting_stream *)s)->inner, buf, len);
}

static ssize_t
noting_recv_wait(struct nvmf_stream *s, void *buf, size_t len, int timeout_ms)
{
	note_read(s, buf, len);
	return nvmf_stream_recv_wait(((struct noting_stream *)s)->inner, buf, len, timeout_ms);
}

static ssize_t
noting_sendv(struct nvmf_stream *s, const struct iovec *iov, int iovcnt)
{
	return nvmf_stream_sendv(((struct noting_stream *)s)->inner, iov, iovcnt);
}

static int
noting_wait(struct nvmf_stream *s, short events, int timeout_ms)
{
	struct nvmf_stream *in = ((struct noting_stream *)s)->inner;

	return in->ops->wait(in, events, timeout_ms);
}

static void
noting_shutdown(struct nvmf_stream *s)
{
	struct nvmf_stream *in = ((struct noting_stream *)s)->inner;

	in->ops->shutdown(in);
}

static void
noting_close(struct nvmf_stream *s, bool keep_fd)
{
	struct nvmf_stream *in = ((struct noting_stream *)s)->inner;

	in->ops->close(in, keep_fd);
	free(s);
}

static int
noting_fd(const struct nvmf_stream *s)
{
	return nvmf_stream_fd(((const struct noting_stream *)s)->inner);
}

static const struct nvmf_stream_ops noting_ops = {
	.recv = noting_recv, .recv_wait = noting_recv_wait, .sendv = noting_sendv,
	.wait = noting_wait, .shutdown = noting_shutdown, .close = noting_close,
	.fd = noting_fd,
};

static void
test_read_after_a_large_payload_stops_short_of_the_next_one(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	struct noting_stream *n = calloc(1, sizeof(*n));
	struct nvme_command sqe;
	struct req r[4];
	const uint32_t len = 128 * 1024;
	uint8_t *in = malloc(4 * len);

	assert_non_null(n);
	assert_non_null(in);
	connect_pair_opts(p, &hp, &cp, 32, false, true, true);
	n->base.ops = &noting_ops;
	n->inner = p->host->stream;
	n->rxbuf = p->host->rxbuf;
	p->host->stream = &n->base;
	fill_pattern(p->tgt.store, 4 * len, 31);
	/* Four reads in flight: their data follow each other on the socket. */
	for (int i = 0; i < 4; i++) {
		r[i] = (struct req){ .p = p };
		nvmf_cmd_rw(&sqe, NVME_IO_READ, 1, (uint64_t)i * len / 512, len / 512);
		sqe.cdw10 = (uint32_t)i * len;
		assert_int_equal(nvmf_host_submit(p->host, &sqe, in + (size_t)i * len, len, false,
		    req_done, &r[i]), 0);
	}
	drive_completions(p, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(NVME_CQE_STATUS(r[i].cqe.status), 0);
	assert_memory_equal(in, p->tgt.store, 4 * len);
	/*
	 * The payloads went in place, and no read after one asked the receive
	 * buffer for more than a header's worth: a 64 KiB read there brings
	 * half of the next payload, to be copied out again.
	 */
	assert_true(n->in_place_seen);
	assert_in_range(n->most_after, 1, 1024);
	free(in);
}

/* The congestion control a socket uses, as ss(8) shows it. */
static void
socket_congestion(int fd, char *name, size_t len)
{
	socklen_t sl = (socklen_t)len;

	memset(name, 0, len);
	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &sl), 0);
}

static void
test_tcp_congestion_is_set_on_both_sides_sockets(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	char def[NVMF_TCP_CONGESTION_LEN], want[NVMF_TCP_CONGESTION_LEN], got[32];
	int probe = socket(AF_INET, SOCK_STREAM, 0);

	/* Whatever this system's default is, ask for the other of reno and cubic. */
	assert_true(probe >= 0);
	socket_congestion(probe, def, sizeof(def));
	close(probe);
	snprintf(want, sizeof(want), "%s", strcmp(def, "reno") == 0 ? "cubic" : "reno");
	snprintf(hp.tcp_congestion, sizeof(hp.tcp_congestion), "%s", want);
	snprintf(cp.tcp_congestion, sizeof(cp.tcp_congestion), "%s", want);
	connect_pair_opts(p, &hp, &cp, 32, false, true, true);
	socket_congestion(nvmf_qpair_fd(p->host), got, sizeof(got));
	assert_string_equal(got, want);
	socket_congestion(nvmf_qpair_fd(p->ctrl), got, sizeof(got));
	assert_string_equal(got, want);
}

static void
test_tcp_congestion_default_leaves_the_systems(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	char def[NVMF_TCP_CONGESTION_LEN], got[32];
	int probe = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(probe >= 0);
	socket_congestion(probe, def, sizeof(def));
	close(probe);
	connect_pair_opts(p, &hp, &cp, 32, false, true, true);
	socket_congestion(nvmf_qpair_fd(p->host), got, sizeof(got));
	assert_string_equal(got, def);
}

static void
test_tcp_congestion_unknown_or_malformed_fails_the_association(void **state)
{
	struct nvmf_association_params hp = host_params();
	char err[512];

	(void)state;
	snprintf(hp.tcp_congestion, sizeof(hp.tcp_congestion), "nosuchcc");
	assert_null(nvmf_association_create(&hp, err, sizeof(err)));
	assert_non_null(strstr(err, "TCP congestion control 'nosuchcc'"));
	assert_non_null(strstr(err, "this system has: "));
	snprintf(hp.tcp_congestion, sizeof(hp.tcp_congestion), "cu bic");
	assert_null(nvmf_association_create(&hp, err, sizeof(err)));
	assert_non_null(strstr(err, "not a name"));
	memset(hp.tcp_congestion, 'a', sizeof(hp.tcp_congestion));
	assert_null(nvmf_association_create(&hp, err, sizeof(err)));
	assert_non_null(strstr(err, "longer than 15 characters"));
}

static void
test_tcp_congestion_check_answers_for_a_name_alone(void **state)
{
	char err[512];

	(void)state;
	assert_int_equal(nvmf_tcp_congestion_check("reno", err, sizeof(err)), 0);
	assert_int_equal(nvmf_tcp_congestion_check("nosuchcc", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "this system has: "));
	assert_int_equal(nvmf_tcp_congestion_check("", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(nvmf_tcp_congestion_check("Reno", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a name"));
}

static void
test_tcp_congestion_past_an_older_callers_size_is_ignored(void **state)
{
	struct nvmf_association_params hp = host_params();
	struct nvmf_association *na;
	char err[256];

	(void)state;
	/* A caller built before the field existed: garbage past its size. */
	memset(hp.tcp_congestion, '!', sizeof(hp.tcp_congestion));
	hp.size = offsetof(struct nvmf_association_params, tcp_congestion);
	na = nvmf_association_create(&hp, err, sizeof(err));
	assert_non_null(na);
	assert_string_equal(nvmf_association_params(na)->tcp_congestion, "");
	nvmf_association_free(na);
}

static void
test_large_read_and_write_over_tcp_loopback_with_digests(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	struct nvme_command sqe;
	struct req w = { .p = p }, r = { .p = p };
	const uint32_t len = 1024 * 1024;
	uint8_t *out = malloc(len), *in = malloc(len);

	assert_non_null(out);
	assert_non_null(in);
	hp.header_digests = hp.data_digests = true;
	cp.header_digests = cp.data_digests = true;
	connect_pair_opts(p, &hp, &cp, 32, false, true, true);
	fill_pattern(out, len, 6);
	nvmf_cmd_rw(&sqe, NVME_IO_WRITE, 1, 0, len / 512);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, out, len, true, req_done, &w), 0);
	drive_completions(p, 1);
	assert_int_equal(NVME_CQE_STATUS(w.cqe.status), 0);
	nvmf_cmd_rw(&sqe, NVME_IO_READ, 1, 0, len / 512);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, in, len, false, req_done, &r), 0);
	drive_completions(p, 2);
	assert_int_equal(NVME_CQE_STATUS(r.cqe.status), 0);
	assert_memory_equal(in, out, len);
	free(out);
	free(in);
}

static void
test_read_without_sq_flow_control_completes(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	struct nvme_command sqe;
	struct req r[8];
	static uint8_t buf[8][4096];

	hp.sq_flow_control = false;		/* host asks to disable it */
	connect_pair_opts(p, &hp, &cp, 4, false, false, false);
	/* Without SQ flow control more commands than SQ slots - 1 may be sent. */
	for (int i = 0; i < 4; i++) {
		r[i] = (struct req){ .p = p };
		fill_pattern(p->tgt.store + i * 4096, 4096, 10 + i);
		nvmf_cmd_rw(&sqe, NVME_IO_READ, 1, 0, 8);
		sqe.cdw10 = (uint32_t)i * 4096;
		assert_int_equal(nvmf_host_submit(p->host, &sqe, buf[i], 4096, false,
		    req_done, &r[i]), 0);
	}
	drive_completions(p, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(NVME_CQE_STATUS(r[i].cqe.status), 0);
		assert_memory_equal(buf[i], p->tgt.store + i * 4096, 4096);
	}
}

static void
test_controller_uses_success_flag_without_sq_flow_control(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct raw_link l;
	struct nvme_command sqe;
	static uint8_t pdu[8192];

	l = raw_host_connect(p, &cp, false, false, 32, false);
	fill_pattern(p->tgt.store, 4096, 20);
	sqe = make_sqe(NVME_IO_READ, 5, SGL_TRANSPORT, 4096, 0);
	raw_send_capsule(p->raw, &sqe, NULL, 0, &l, false, false);
	assert_int_equal(process_ok(p->ctrl), 0);
	assert_int_equal(raw_read_pdu(p->raw, pdu, sizeof(pdu)), 24 + 4096);
	assert_int_equal(pdu[0], T_C2H_DATA);
	assert_int_equal(pdu[1], F_LAST | F_SUCCESS);
	assert_int_equal(pdu[3], 24);
	assert_int_equal(le16(pdu + 8), 5);
	assert_int_equal(le32(pdu + 12), 0);
	assert_int_equal(le32(pdu + 16), 4096);
	assert_memory_equal(pdu + 24, p->tgt.store, 4096);
	/* No CapsuleResp for it: the next PDU answers the next command. */
	sqe = make_sqe(NVME_ADMIN_KEEP_ALIVE, 6, 0, 0, 0);
	raw_send_capsule(p->raw, &sqe, NULL, 0, &l, false, false);
	assert_int_equal(process_ok(p->ctrl), 0);
	assert_int_equal(raw_read_resp(p->raw, pdu), 0);
	assert_int_equal(le16(pdu + 20), 6);
}

/* What a receiver told of a deviation, and whether it serves it. */
struct deviation_seen {
	bool serve;
	int calls;
	uint16_t fes;
	uint32_t fei;
	char what[128];
};

static bool
deviation_handler(void *arg, const char *what, uint16_t fes, uint32_t fei)
{
	struct deviation_seen *d = arg;

	d->calls++;
	d->fes = fes;
	d->fei = fei;
	snprintf(d->what, sizeof(d->what), "%s", what);
	return d->serve;
}

/* A Keep Alive capsule with PDO = PLEN = HLEN, as some hosts send every capsule. */
static void
raw_send_capsule_pdo_without_data(int fd, uint16_t cid)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_command sqe = make_sqe(NVME_ADMIN_KEEP_ALIVE, cid, 0, 0, 0);
	uint32_t n = nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, false, 0, 0);

	assert_int_equal(n, 72);
	buf[3] = 72;
	raw_write(fd, buf, n);
}

static void
test_capsule_pdo_without_data_served_and_reported(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct deviation_seen d = { .serve = true };
	uint8_t pdu[64];

	raw_host_connect(p, &cp, false, false, 32, false);
	nvmf_qpair_set_deviation_handler(p->ctrl, deviation_handler, &d);
	raw_send_capsule_pdo_without_data(p->raw, 7);
	raw_send_capsule_pdo_without_data(p->raw, 8);
	assert_int_equal(process_ok(p->ctrl), 0);
	assert_int_equal(raw_read_resp(p->raw, pdu), 0);
	assert_int_equal(le16(pdu + 20), 7);
	assert_int_equal(raw_read_resp(p->raw, pdu), 0);
	assert_int_equal(le16(pdu + 20), 8);
	assert_int_equal(p->tgt.commands, 2);
	assert_int_equal(p->tgt.last_len, 0);
	assert_int_equal(d.calls, 2);
	assert_int_equal(d.fes, 0x01);
	assert_int_equal(d.fei, 3);
	assert_non_null(strstr(d.what, "PDO 72"));
}

static void
test_capsule_pdo_without_data_refused_by_handler(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct deviation_seen d = { .serve = false };

	raw_host_connect(p, &cp, false, false, 32, false);
	nvmf_qpair_set_deviation_handler(p->ctrl, deviation_handler, &d);
	raw_send_capsule_pdo_without_data(p->raw, 9);
	assert_int_equal(nvmf_qpair_process(p->ctrl), -1);
	assert_int_equal(p->tgt.commands, 0);
	assert_int_equal(d.calls, 1);
	expect_c2h_term_req(p->raw, 0x01, 3);
	assert_non_null(strstr(nvmf_qpair_error(p->ctrl), "PDO"));
}

static void
test_controller_sends_c2h_data_then_response_with_sq_flow_control(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct raw_link l;
	struct nvme_command sqe;
	static uint8_t pdu[8192];

	l = raw_host_connect(p, &cp, false, false, 32, true);
	fill_pattern(p->tgt.store, 512, 21);
	for (uint16_t i = 0; i < 3; i++) {
		sqe = make_sqe(NVME_IO_READ, (uint16_t)(10 + i), SGL_TRANSPORT, 512, 0);
		raw_send_capsule(p->raw, &sqe, NULL, 0, &l, false, false);
		assert_int_equal(process_ok(p->ctrl), 0);
		assert_int_equal(raw_read_pdu(p->raw, pdu, sizeof(pdu)), 24 + 512);
		assert_int_equal(pdu[0], T_C2H_DATA);
		assert_int_equal(pdu[1], F_LAST);
		assert_int_equal(raw_read_resp(p->raw, pdu), 0);
		assert_int_equal(le16(pdu + 16), i + 1);	/* SQHD advances */
		assert_int_equal(le16(pdu + 18), 1);		/* SQID */
		assert_int_equal(le16(pdu + 20), 10 + i);	/* CID */
	}
}

static void
test_controller_r2t_on_the_wire(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct raw_link l;
	struct nvme_command sqe;
	static uint8_t data[6000], pdu[64];

	cp.header_digests = true;
	l = raw_host_connect(p, &cp, true, true, 32, true);
	assert_true(l.hdgst && !l.ddgst);	/* controller permits only HDGST */
	fill_pattern(data, sizeof(data), 22);
	sqe = make_sqe(NVME_IO_WRITE, 3, SGL_TRANSPORT, sizeof(data), 1024);
	raw_send_capsule(p->raw, &sqe, NULL, 0, &l, false, false);
	assert_int_equal(process_ok(p->ctrl), 0);
	assert_int_equal(raw_read_pdu(p->raw, pdu, sizeof(pdu)), 28);
	assert_int_equal(pdu[0], T_R2T);
	assert_int_equal(pdu[1], F_HDGST);
	assert_int_equal(pdu[2], 24);
	assert_int_equal(pdu[3], 0);
	assert_int_equal(le16(pdu + 8), 3);
	assert_int_equal(le32(pdu + 12), 0);
	assert_int_equal(le32(pdu + 16), sizeof(data));
	assert_true(nvmf_pdu_hdgst_ok(pdu, 24));
	raw_send_h2c_data(p->raw, 3, le16(pdu + 10), 0, data, 4000, false, &l);
	raw_send_h2c_data(p->raw, 3, le16(pdu + 10), 4000, data + 4000, 2000, true, &l);
	assert_int_equal(process_ok(p->ctrl), 0);
	assert_int_equal(raw_read_pdu(p->raw, pdu, sizeof(pdu)), 28);
	assert_int_equal(pdu[0], T_RESP);
	assert_int_equal(le16(pdu + 20), 3);
	assert_int_equal(le16(pdu + 22), 0);
	assert_memory_equal(p->tgt.store + 1024, data, sizeof(data));
}

static void
test_many_commands_in_flight(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	enum { N = 48, REGION = 16384 };
	struct req r[N];
	static uint8_t bufs[N][12288];
	struct nvme_command sqe;

	connect_pair(p, &hp, &cp, 64);
	nvmf_host_qpair_set_icd_size(p->host, 4096);
	for (int i = 0; i < N; i++) {
		uint32_t len = i % 3 == 0 ? 4096 : i % 3 == 1 ? 12288 : 8192;
		bool write = i % 3 != 2;

		r[i] = (struct req){ .p = p };
		if (write)
			fill_pattern(bufs[i], len, 100 + i);
		else
			fill_pattern(p->tgt.store + i * REGION, len, 200 + i);
		nvmf_cmd_rw(&sqe, write ? NVME_IO_WRITE : NVME_IO_READ, 1, 0, len / 512);
		sqe.cdw10 = (uint32_t)i * REGION;
		assert_int_equal(nvmf_host_submit(p->host, &sqe, bufs[i], len, write,
		    req_done, &r[i]), 0);
	}
	assert_int_equal(nvmf_host_outstanding(p->host), N);
	drive_completions(p, N);
	assert_int_equal(p->tgt.commands, N);
	for (int i = 0; i < N; i++) {
		uint32_t len = i % 3 == 0 ? 4096 : i % 3 == 1 ? 12288 : 8192;

		assert_int_equal(r[i].calls, 1);
		assert_int_equal(NVME_CQE_STATUS(r[i].cqe.status), 0);
		assert_memory_equal(bufs[i], p->tgt.store + i * REGION, len);
	}
	assert_int_equal(nvmf_host_outstanding(p->host), 0);
}

static void
test_submit_busy_when_sq_full(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	struct nvme_command sqe;
	struct req r[5];

	/* Flow control keeps one SQ slot empty: 3 of 4 entries usable. */
	connect_pair(p, &hp, &cp, 4);
	nvmf_cmd_keep_alive(&sqe);
	for (int i = 0; i < 3; i++) {
		r[i] = (struct req){ .p = p };
		assert_int_equal(nvmf_host_submit(p->host, &sqe, NULL, 0, false, req_done,
		    &r[i]), 0);
	}
	r[3] = (struct req){ .p = p };
	assert_int_equal(nvmf_host_submit(p->host, &sqe, NULL, 0, false, req_done, &r[3]),
	    -EBUSY);
	drive_completions(p, 3);
	/* SQHD from the responses frees the slots again. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(nvmf_host_submit(p->host, &sqe, NULL, 0, false, req_done,
		    &r[i]), 0);
	}
	drive_completions(p, 6);
	assert_int_equal(r[3].calls, 0);
}

static void
test_digests_with_data_in_every_direction(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	struct nvme_command sqe;
	struct req r[3] = { { .p = p }, { .p = p }, { .p = p } };
	static uint8_t small[2048], big[24576], back[24576 + 2048];

	hp.header_digests = hp.data_digests = true;
	cp.header_digests = cp.data_digests = true;
	cp.max_h2c_data = 8192;
	connect_pair(p, &hp, &cp, 32);
	nvmf_host_qpair_set_icd_size(p->host, 4096);
	fill_pattern(small, sizeof(small), 30);
	fill_pattern(big, sizeof(big), 31);
	nvmf_cmd_rw(&sqe, NVME_IO_WRITE, 1, 0, 4);
	sqe.cdw10 = 0;
	assert_int_equal(nvmf_host_submit(p->host, &sqe, small, sizeof(small), true,
	    req_done, &r[0]), 0);			/* in-capsule */
	sqe.cdw10 = sizeof(small);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, big, sizeof(big), true,
	    req_done, &r[1]), 0);			/* R2T + 3 H2CData */
	drive_completions(p, 2);
	nvmf_cmd_rw(&sqe, NVME_IO_READ, 1, 0, 52);
	sqe.cdw10 = 0;
	assert_int_equal(nvmf_host_submit(p->host, &sqe, back, sizeof(back), false,
	    req_done, &r[2]), 0);
	drive_completions(p, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(NVME_CQE_STATUS(r[i].cqe.status), 0);
	assert_memory_equal(back, small, sizeof(small));
	assert_memory_equal(back + sizeof(small), big, sizeof(big));
}

static void
test_data_alignment_honoured_in_both_directions(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	struct nvme_command sqe;
	struct req r[3] = { { .p = p }, { .p = p }, { .p = p } };
	static uint8_t a[1000], b[9000], back[10000];

	hp.pda = 7;				/* C2H data on 32 bytes */
	hp.header_digests = true;
	cp.pda = 3;				/* H2C data on 16 bytes */
	cp.header_digests = true;
	connect_pair(p, &hp, &cp, 32);
	nvmf_host_qpair_set_icd_size(p->host, 4096);
	fill_pattern(a, sizeof(a), 40);
	fill_pattern(b, sizeof(b), 41);
	nvmf_cmd_rw(&sqe, NVME_IO_WRITE, 1, 0, 2);
	sqe.cdw10 = 0;
	assert_int_equal(nvmf_host_submit(p->host, &sqe, a, sizeof(a), true, req_done,
	    &r[0]), 0);
	sqe.cdw10 = sizeof(a);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, b, sizeof(b), true, req_done,
	    &r[1]), 0);
	drive_completions(p, 2);
	nvmf_cmd_rw(&sqe, NVME_IO_READ, 1, 0, 20);
	sqe.cdw10 = 0;
	assert_int_equal(nvmf_host_submit(p->host, &sqe, back, sizeof(back), false,
	    req_done, &r[2]), 0);
	drive_completions(p, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(NVME_CQE_STATUS(r[i].cqe.status), 0);
	assert_memory_equal(back, a, sizeof(a));
	assert_memory_equal(back + sizeof(a), b, sizeof(b));
}

static void
test_read_shorter_than_buffer_completes(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	struct nvme_command sqe;
	struct req r = { .p = p };
	static uint8_t buf[8192];

	/* nvmf_capsule_complete sends "the first c2h_len bytes": a controller
	 * may return less than the host's buffer (e.g. a short log page). */
	connect_pair(p, &hp, &cp, 32);
	fill_pattern(p->tgt.store, 4096, 50);
	p->tgt.short_read = 4096;
	nvmf_cmd_rw(&sqe, NVME_IO_READ, 1, 0, 16);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, buf, sizeof(buf), false,
	    req_done, &r), 0);
	drive_completions(p, 1);
	assert_int_equal(NVME_CQE_STATUS(r.cqe.status), 0);
	assert_memory_equal(buf, p->tgt.store, 4096);
}

static void
test_bytes_arriving_one_at_a_time(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct raw_link l;
	struct nvme_command sqe;
	uint8_t pdu[NVMF_PDU_MAX_PREFIX + 600], data[512], resp[64];
	uint32_t n, crc;

	cp.header_digests = cp.data_digests = true;
	l = raw_host_connect(p, &cp, true, true, 32, true);
	assert_true(l.hdgst && l.ddgst);
	fill_pattern(data, sizeof(data), 60);
	sqe = make_sqe(NVME_IO_WRITE, 9, SGL_ICD, sizeof(data), 0);
	n = nvmf_pdu_encode_capsule_cmd(pdu, &sqe, true, true, 0, sizeof(data));
	memcpy(pdu + n, data, sizeof(data));
	crc = nvmf_crc32c(data, sizeof(data));
	memcpy(pdu + n + sizeof(data), &crc, 4);
	n += sizeof(data) + 4;
	for (uint32_t i = 0; i < n; i++) {
		raw_write(p->raw, pdu + i, 1);
		assert_int_equal(process_ok(p->ctrl), 0);
		assert_int_equal(p->tgt.commands, i + 1 == n ? 1 : 0);
	}
	assert_int_equal(raw_read_pdu(p->raw, resp, sizeof(resp)), 28);
	assert_int_equal(le16(resp + 22), 0);
	assert_memory_equal(p->tgt.store, data, sizeof(data));
}

/* ================================================ hostile controller input */

static void
test_ctrl_header_digest_mismatch_sends_c2h_term_req(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct raw_link l;
	struct nvme_command sqe = make_sqe(NVME_ADMIN_KEEP_ALIVE, 1, 0, 0, 0);
	uint8_t pdu[256];

	cp.header_digests = true;
	l = raw_host_connect(p, &cp, true, false, 32, true);
	raw_send_capsule(p->raw, &sqe, NULL, 0, &l, true, false);
	assert_int_equal(nvmf_qpair_process(p->ctrl), -1);
	assert_true(nvmf_qpair_failed(p->ctrl));
	assert_non_null(strstr(nvmf_qpair_error(p->ctrl), "digest"));
	assert_int_equal(p->tgt.commands, 0);
	assert_int_equal(raw_read_pdu(p->raw, pdu, sizeof(pdu)), 24 + 76);
	assert_int_equal(pdu[0], T_C2H_TERM);
	assert_int_equal(le16(pdu + 8), 0x03);
	assert_int_equal(le32(pdu + 10), 0);
	assert_int_equal(pdu[24], T_CMD);	/* the offending header follows */
	assert_true(raw_sees_eof(p->raw));
}

static void
test_ctrl_data_digest_mismatch_completes_with_transient_transport_error(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct raw_link l;
	struct nvme_command sqe;
	uint8_t data[1024], resp[64];
	uint16_t status;

	cp.data_digests = true;
	l = raw_host_connect(p, &cp, false, true, 32, true);
	fill_pattern(data, sizeof(data), 70);
	sqe = make_sqe(NVME_IO_WRITE, 4, SGL_ICD, sizeof(data), 0);
	raw_send_capsule(p->raw, &sqe, data, sizeof(data), &l, false, true);
	assert_int_equal(process_ok(p->ctrl), 0);
	status = raw_read_resp(p->raw, resp);
	assert_int_equal(NVME_STATUS_SCT(status), 0);
	assert_int_equal(NVME_STATUS_SC(status), 0x22);
	assert_int_equal(le16(resp + 20), 4);
	assert_int_equal(p->tgt.commands, 0);	/* never reached the handler */
	/* The connection stays usable. */
	sqe.cid = 5;
	raw_send_capsule(p->raw, &sqe, data, sizeof(data), &l, false, false);
	assert_int_equal(process_ok(p->ctrl), 0);
	assert_int_equal(raw_read_resp(p->raw, resp), 0);
	assert_int_equal(le16(resp + 20), 5);
	assert_int_equal(p->tgt.commands, 1);
	assert_memory_equal(p->tgt.store, data, sizeof(data));
}

static void
test_transient_transport_error_allows_retry(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct raw_link l;
	struct nvme_command sqe;
	uint8_t data[512], resp[64];
	uint16_t status;

	/* A digest error is transient: the command may be retried, so the
	 * status must not carry Do Not Retry. */
	cp.data_digests = true;
	l = raw_host_connect(p, &cp, false, true, 32, true);
	fill_pattern(data, sizeof(data), 71);
	sqe = make_sqe(NVME_IO_WRITE, 4, SGL_ICD, sizeof(data), 0);
	raw_send_capsule(p->raw, &sqe, data, sizeof(data), &l, false, true);
	assert_int_equal(process_ok(p->ctrl), 0);
	status = raw_read_resp(p->raw, resp);
	assert_int_equal(NVME_STATUS_SC(status), 0x22);
	assert_int_equal(status & NVME_STATUS_DNR, 0);
}

static void
test_ctrl_data_digest_mismatch_on_h2c_data(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct raw_link l;
	struct nvme_command sqe;
	uint8_t data[4096], pdu[64], hdr[NVMF_PDU_MAX_PREFIX];
	uint32_t crc;

	cp.data_digests = true;
	l = raw_host_connect(p, &cp, false, true, 32, true);
	fill_pattern(data, sizeof(data), 72);
	sqe = make_sqe(NVME_IO_WRITE, 8, SGL_TRANSPORT, sizeof(data), 0);
	raw_send_capsule(p->raw, &sqe, NULL, 0, &l, false, false);
	assert_int_equal(process_ok(p->ctrl), 0);
	assert_int_equal(raw_read_pdu(p->raw, pdu, sizeof(pdu)), 24);
	assert_int_equal(pdu[0], T_R2T);
	raw_write(p->raw, hdr, nvmf_pdu_encode_h2c_data(hdr, 8, le16(pdu + 10), 0,
	    sizeof(data), true, false, true, 0));
	raw_write(p->raw, data, sizeof(data));
	crc = ~nvmf_crc32c(data, sizeof(data));
	raw_write(p->raw, &crc, 4);
	assert_int_equal(process_ok(p->ctrl), 0);
	assert_int_equal(NVME_STATUS_SC(raw_read_resp(p->raw, pdu)), 0x22);
	assert_int_equal(p->tgt.commands, 0);
	assert_false(nvmf_qpair_failed(p->ctrl));
}

/* Sends a write that waits for data and returns the R2T's transfer tag. */
static uint16_t
raw_write_waiting_for_r2t(struct pair *p, const struct raw_link *l, uint16_t cid,
    uint32_t len)
{
	struct nvme_command sqe = make_sqe(NVME_IO_WRITE, cid, SGL_TRANSPORT, len, 0);
	uint8_t pdu[64];

	raw_send_capsule(p->raw, &sqe, NULL, 0, l, false, false);
	assert_int_equal(process_ok(p->ctrl), 0);
	assert_true(raw_read_pdu(p->raw, pdu, sizeof(pdu)) >= 24);
	assert_int_equal(pdu[0], T_R2T);
	assert_int_equal(le16(pdu + 8), cid);
	assert_int_equal(le32(pdu + 12), 0);
	assert_int_equal(le32(pdu + 16), len);
	return le16(pdu + 10);
}

static void
test_ctrl_h2c_data_beyond_r2t_terminates_with_fes_4(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct raw_link l;
	static uint8_t data[8192];
	uint16_t ttag;

	l = raw_host_connect(p, &cp, false, false, 32, true);
	ttag = raw_write_waiting_for_r2t(p, &l, 2, 4096);
	/* 8 KiB against an R2T for 4 KiB. */
	raw_send_h2c_data(p->raw, 2, ttag, 0, data, sizeof(data), true, &l);
	assert_int_equal(nvmf_qpair_process(p->ctrl), -1);
	assert_int_equal(p->tgt.commands, 0);
	expect_c2h_term_req(p->raw, 0x04, 12);
}

static void
test_ctrl_h2c_data_at_wrong_offset_terminates_with_fes_4(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct raw_link l;
	static uint8_t data[4096];
	uint16_t ttag;

	l = raw_host_connect(p, &cp, false, false, 32, true);
	ttag = raw_write_waiting_for_r2t(p, &l, 2, 8192);
	raw_send_h2c_data(p->raw, 2, ttag, 4096, data, sizeof(data), true, &l);
	assert_int_equal(nvmf_qpair_process(p->ctrl), -1);
	expect_c2h_term_req(p->raw, 0x04, 12);
}

static void
test_ctrl_h2c_data_unknown_transfer_tag_terminates_with_fes_1(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct raw_link l;
	static uint8_t data[512];
	uint16_t ttag;

	l = raw_host_connect(p, &cp, false, false, 32, true);
	ttag = raw_write_waiting_for_r2t(p, &l, 2, 512);
	raw_send_h2c_data(p->raw, 2, (uint16_t)(ttag + 1), 0, data, sizeof(data), true, &l);
	assert_int_equal(nvmf_qpair_process(p->ctrl), -1);
	expect_c2h_term_req(p->raw, 0x01, 10);
}

static void
test_ctrl_h2c_data_without_any_r2t_terminates_with_fes_1(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct raw_link l;
	static uint8_t data[512];

	l = raw_host_connect(p, &cp, false, false, 32, true);
	raw_send_h2c_data(p->raw, 2, 0, 0, data, sizeof(data), true, &l);
	assert_int_equal(nvmf_qpair_process(p->ctrl), -1);
	expect_c2h_term_req(p->raw, 0x01, 10);
}

static void
test_ctrl_h2c_data_above_maxh2cdata_terminates_with_fes_5(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct raw_link l;
	static uint8_t data[8192];
	uint16_t ttag;

	cp.max_h2c_data = 4096;
	l = raw_host_connect(p, &cp, false, false, 32, true);
	assert_int_equal(l.maxh2cdata, 4096);
	ttag = raw_write_waiting_for_r2t(p, &l, 2, sizeof(data));
	raw_send_h2c_data(p->raw, 2, ttag, 0, data, sizeof(data), true, &l);
	assert_int_equal(nvmf_qpair_process(p->ctrl), -1);
	expect_c2h_term_req(p->raw, 0x05, 16);
}

static void
test_ctrl_h2c_data_last_flag_missing_terminates(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct raw_link l;
	static uint8_t data[512];
	uint16_t ttag;

	l = raw_host_connect(p, &cp, false, false, 32, true);
	ttag = raw_write_waiting_for_r2t(p, &l, 2, sizeof(data));
	raw_send_h2c_data(p->raw, 2, ttag, 0, data, sizeof(data), false, &l);
	assert_int_equal(nvmf_qpair_process(p->ctrl), -1);
	expect_c2h_term_req(p->raw, 0x01, 1);
}

static void
test_ctrl_in_capsule_data_above_queue_limit_terminates_with_fes_5(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct raw_link l;
	struct nvme_command sqe;
	static uint8_t data[8192];

	cp.io_icd_size = 4096;
	l = raw_host_connect(p, &cp, false, false, 32, true);
	sqe = make_sqe(NVME_IO_WRITE, 1, SGL_ICD, sizeof(data), 0);
	raw_send_capsule(p->raw, &sqe, data, sizeof(data), &l, false, false);
	assert_int_equal(nvmf_qpair_process(p->ctrl), -1);
	assert_int_equal(p->tgt.commands, 0);
	expect_c2h_term_req(p->raw, 0x05, 4);
}

static void
test_ctrl_pdu_for_the_host_terminates_with_fes_2(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	uint8_t buf[NVMF_PDU_MAX_PREFIX];

	raw_host_connect(p, &cp, false, false, 32, true);
	raw_write(p->raw, buf, nvmf_pdu_encode_r2t(buf, 1, 1, 0, 512, false));
	assert_int_equal(nvmf_qpair_process(p->ctrl), -1);
	expect_c2h_term_req(p->raw, 0x02, 0);
}

static void
test_ctrl_unknown_pdu_type_terminates_with_fes_1(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	uint8_t buf[24] = { 0x0b, 0, 24, 0, 24, 0, 0, 0 };

	raw_host_connect(p, &cp, false, false, 32, true);
	raw_write(p->raw, buf, sizeof(buf));
	assert_int_equal(nvmf_qpair_process(p->ctrl), -1);
	expect_c2h_term_req(p->raw, 0x01, 0);
}

static void
test_ctrl_second_icreq_terminates_with_fes_2(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	uint8_t buf[NVMF_PDU_MAX_PREFIX];

	raw_host_connect(p, &cp, false, false, 32, true);
	raw_write(p->raw, buf, nvmf_pdu_encode_icreq(buf, 0, false, false, 0));
	assert_int_equal(nvmf_qpair_process(p->ctrl), -1);
	expect_c2h_term_req(p->raw, 0x02, 0);
}

/* Sends one capsule and returns the status the controller answered with. */
static uint16_t
ctrl_status_for(struct pair *p, const struct raw_link *l, const struct nvme_command *sqe,
    const void *data, uint32_t len)
{
	uint8_t resp[64];
	uint16_t status;

	raw_send_capsule(p->raw, sqe, data, len, l, false, false);
	assert_int_equal(process_ok(p->ctrl), 0);
	status = raw_read_resp(p->raw, resp);
	assert_int_equal(le16(resp + 20), sqe->cid);
	return status;
}

static void
test_ctrl_rejects_bad_data_pointers_with_status(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct raw_link l;
	struct nvme_command sqe;
	uint8_t data[256] = { 0 };

	cp.max_transfer = 65536;
	l = raw_host_connect(p, &cp, false, false, 32, true);
	/* PRPs (PSDT 0) are not allowed on fabrics: Invalid Field. */
	sqe = make_sqe(NVME_ADMIN_KEEP_ALIVE, 1, 0, 0, 0);
	sqe.flags = 0;
	assert_int_equal(ctrl_status_for(p, &l, &sqe, NULL, 0) & 0xff, 0x02);
	/* In-capsule data under a transport SGL: SGL Descriptor Type Invalid. */
	sqe = make_sqe(NVME_IO_WRITE, 2, SGL_TRANSPORT, sizeof(data), 0);
	assert_int_equal(ctrl_status_for(p, &l, &sqe, data, sizeof(data)) & 0xff, 0x11);
	/* SGL length differs from the data in the capsule. */
	sqe = make_sqe(NVME_IO_WRITE, 3, SGL_ICD, 512, 0);
	assert_int_equal(ctrl_status_for(p, &l, &sqe, data, sizeof(data)) & 0xff, 0x0F);
	/* In-capsule data at a nonzero offset. */
	sqe = make_sqe(NVME_IO_WRITE, 4, SGL_ICD, sizeof(data), 0);
	sqe.sgl.address = 16;
	assert_int_equal(ctrl_status_for(p, &l, &sqe, data, sizeof(data)) & 0xff, 0x16);
	/* In-capsule data with a read. */
	sqe = make_sqe(NVME_IO_READ, 5, SGL_ICD, sizeof(data), 0);
	assert_int_equal(ctrl_status_for(p, &l, &sqe, data, sizeof(data)) & 0xff, 0x0F);
	/* A transfer above the largest the controller takes. */
	sqe = make_sqe(NVME_IO_READ, 6, SGL_TRANSPORT, 65536 + 512, 0);
	assert_int_equal(ctrl_status_for(p, &l, &sqe, NULL, 0) & 0xff, 0x0F);
	/* The handler saw none of them and the queue still works. */
	assert_int_equal(p->tgt.commands, 0);
	sqe = make_sqe(NVME_ADMIN_KEEP_ALIVE, 7, 0, 0, 0);
	assert_int_equal(ctrl_status_for(p, &l, &sqe, NULL, 0), 0);
	assert_int_equal(p->tgt.commands, 1);
}

static void
test_ctrl_term_req_from_host_fails_qpair(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	uint8_t buf[NVMF_PDU_MAX_PREFIX];

	raw_host_connect(p, &cp, false, false, 32, true);
	raw_write(p->raw, buf, nvmf_pdu_encode_term_req(buf, false, 0x04, 12, NULL, 0));
	assert_int_equal(nvmf_qpair_process(p->ctrl), -1);
	assert_true(nvmf_qpair_failed(p->ctrl));
	assert_non_null(strstr(nvmf_qpair_error(p->ctrl), "host terminated"));
	assert_non_null(strstr(nvmf_qpair_error(p->ctrl), "Data Transfer Out of Range"));
	/* No termination request is sent back for one received. */
	assert_true(raw_silent(p->raw) || raw_sees_eof(p->raw));
}

static void
test_ctrl_peer_close_fails_qpair(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();

	raw_host_connect(p, &cp, false, false, 32, true);
	close(p->raw);
	p->raw = -1;
	assert_int_equal(nvmf_qpair_process(p->ctrl), -1);
	assert_string_equal(nvmf_qpair_error(p->ctrl), "connection closed by peer");
	assert_int_equal(nvmf_qpair_process(p->ctrl), -1);
}

static void
test_ctrl_peer_close_in_the_middle_of_data(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct raw_link l;
	struct nvme_command sqe = make_sqe(NVME_IO_WRITE, 1, SGL_ICD, 4096, 0);
	uint8_t buf[NVMF_PDU_MAX_PREFIX], data[100] = { 0 };

	l = raw_host_connect(p, &cp, false, false, 32, true);
	raw_write(p->raw, buf, nvmf_pdu_encode_capsule_cmd(buf, &sqe, l.hdgst, l.ddgst,
	    l.pda, 4096));
	raw_write(p->raw, data, sizeof(data));
	assert_int_equal(process_ok(p->ctrl), 0);
	close(p->raw);
	p->raw = -1;
	assert_int_equal(nvmf_qpair_process(p->ctrl), -1);
	assert_string_equal(nvmf_qpair_error(p->ctrl), "connection closed by peer");
	assert_int_equal(p->tgt.commands, 0);
	/* The half-received capsule is freed with the queue pair (ASan). */
}

static void
test_ctrl_free_with_command_waiting_for_data(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct raw_link l;

	l = raw_host_connect(p, &cp, false, false, 32, true);
	raw_write_waiting_for_r2t(p, &l, 1, 8192);
	raw_write_waiting_for_r2t(p, &l, 2, 4096);
	nvmf_qpair_free(p->ctrl);		/* must free both capsules (ASan) */
	p->ctrl = NULL;
	assert_true(raw_sees_eof(p->raw));
}

static void
test_ctrl_completion_after_failure_frees_capsule(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params cp = ctrl_params();
	struct raw_link l;
	struct nvme_command sqe = make_sqe(NVME_ADMIN_KEEP_ALIVE, 1, 0, 0, 0);

	l = raw_host_connect(p, &cp, false, false, 32, true);
	p->tgt.hold = true;
	raw_send_capsule(p->raw, &sqe, NULL, 0, &l, false, false);
	assert_int_equal(process_ok(p->ctrl), 0);
	assert_int_equal(p->tgt.nheld, 1);
	close(p->raw);
	p->raw = -1;
	assert_int_equal(nvmf_qpair_process(p->ctrl), -1);
	nvmf_capsule_complete(p->tgt.held[0], 0, 0, 0, 0);	/* freed, not sent */
	p->tgt.nheld = 0;
}

/* ====================================================== hostile host input */

static void
test_host_header_digest_mismatch_sends_h2c_term_req(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params();
	struct nvme_command sqe;
	struct nvme_completion cqe = { .cid = 0 };
	struct req r = { .p = p };
	uint8_t buf[NVMF_PDU_MAX_PREFIX], pdu[256];
	uint16_t cid;

	hp.header_digests = true;
	raw_ctrl_connect_opts(p, &hp, true, false, 65536, 32, false);
	nvmf_cmd_keep_alive(&sqe);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, NULL, 0, false, req_done, &r), 0);
	assert_int_equal(process_ok(p->host), 0);
	cid = raw_read_capsule(p->raw, NULL, NULL, 0);
	cqe.cid = cid;
	nvmf_pdu_encode_capsule_resp(buf, &cqe, true);
	buf[24] ^= 0x40;
	raw_write(p->raw, buf, 28);
	assert_int_equal(nvmf_qpair_process(p->host), -1);
	assert_non_null(strstr(nvmf_qpair_error(p->host), "digest"));
	assert_false(r.done);
	assert_int_equal(raw_read_pdu(p->raw, pdu, sizeof(pdu)), 24 + 28);
	assert_int_equal(pdu[0], T_H2C_TERM);
	assert_int_equal(le16(pdu + 8), 0x03);
	assert_int_equal(le32(pdu + 10), 0);
	assert_int_equal(pdu[24], T_RESP);
	assert_true(raw_sees_eof(p->raw));
}

static void
test_host_data_digest_mismatch_completes_with_transient_transport_error(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params();
	struct nvme_command sqe;
	struct req r = { .p = p }, r2 = { .p = p };
	uint8_t data[512], buf[512];
	uint16_t cid;

	hp.data_digests = true;
	raw_ctrl_connect_opts(p, &hp, false, true, 65536, 32, false);
	fill_pattern(data, sizeof(data), 80);
	nvmf_cmd_rw(&sqe, NVME_IO_READ, 1, 0, 1);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, buf, sizeof(buf), false,
	    req_done, &r), 0);
	assert_int_equal(process_ok(p->host), 0);
	cid = raw_read_capsule(p->raw, NULL, NULL, 0);
	raw_send_c2h_data(p->raw, cid, 0, data, sizeof(data), true, false, true, true);
	raw_send_resp(p->raw, cid, 0, 1);
	drive_completions(p, 1);
	assert_int_equal(NVME_STATUS_SCT(NVME_CQE_STATUS(r.cqe.status)), 0);
	assert_int_equal(NVME_STATUS_SC(NVME_CQE_STATUS(r.cqe.status)), 0x22);
	assert_false(nvmf_qpair_failed(p->host));
	/* The connection stays usable. */
	assert_int_equal(nvmf_host_submit(p->host, &sqe, buf, sizeof(buf), false,
	    req_done, &r2), 0);
	assert_int_equal(process_ok(p->host), 0);
	cid = raw_read_capsule(p->raw, NULL, NULL, 0);
	raw_send_c2h_data(p->raw, cid, 0, data, sizeof(data), true, false, true, false);
	raw_send_resp(p->raw, cid, 0, 2);
	drive_completions(p, 2);
	assert_int_equal(NVME_CQE_STATUS(r2.cqe.status), 0);
	assert_memory_equal(buf, data, sizeof(data));
}

static void
test_host_success_flag_completes_without_response(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params();
	struct nvme_command sqe;
	struct req r = { .p = p };
	uint8_t data[1024], buf[1024];
	uint16_t cid;

	hp.sq_flow_control = false;
	raw_ctrl_connect_opts(p, &hp, false, false, 65536, 32, false);
	fill_pattern(data, sizeof(data), 81);
	nvmf_cmd_rw(&sqe, NVME_IO_READ, 1, 0, 2);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, buf, sizeof(buf), false,
	    req_done, &r), 0);
	assert_int_equal(process_ok(p->host), 0);
	cid = raw_read_capsule(p->raw, NULL, NULL, 0);
	raw_send_c2h_data(p->raw, cid, 0, data, 512, false, false, false, false);
	raw_send_c2h_data(p->raw, cid, 512, data + 512, 512, true, true, false, false);
	drive_completions(p, 1);
	assert_int_equal(NVME_CQE_STATUS(r.cqe.status), 0);
	assert_int_equal(r.cqe.cid, cid);
	assert_memory_equal(buf, data, sizeof(data));
	/* A response after SUCCESS is for an unknown command. */
	raw_send_resp(p->raw, cid, 0, 0);
	assert_int_equal(nvmf_qpair_process(p->host), -1);
	expect_h2c_term_req(p->raw, 0x01, 20);
}

static void
test_host_capsule_resp_unknown_cid_terminates_with_fes_1(void **state)
{
	struct pair *p = *state;

	raw_ctrl_connect(p);
	raw_send_resp(p->raw, 7, 0, 1);
	assert_int_equal(nvmf_qpair_process(p->host), -1);
	assert_non_null(strstr(nvmf_qpair_error(p->host), "unknown command"));
	expect_h2c_term_req(p->raw, 0x01, 20);	/* CQE CID at 8 + 12 */
}

static void
test_host_capsule_resp_cid_beyond_queue_terminates_with_fes_1(void **state)
{
	struct pair *p = *state;

	raw_ctrl_connect(p);
	raw_send_resp(p->raw, 0xffff, 0, 1);
	assert_int_equal(nvmf_qpair_process(p->host), -1);
	expect_h2c_term_req(p->raw, 0x01, 20);
}

static void
test_host_c2h_data_unknown_cid_terminates_with_fes_1(void **state)
{
	struct pair *p = *state;
	uint8_t data[64] = { 0 };

	raw_ctrl_connect(p);
	raw_send_c2h_data(p->raw, 3, 0, data, sizeof(data), true, false, false, false);
	assert_int_equal(nvmf_qpair_process(p->host), -1);
	expect_h2c_term_req(p->raw, 0x01, 8);
}

static void
test_host_c2h_data_for_a_write_terminates_with_fes_1(void **state)
{
	struct pair *p = *state;
	struct nvme_command sqe;
	struct req r = { .p = p };
	uint8_t data[64] = { 0 };
	uint16_t cid;

	raw_ctrl_connect(p);
	nvmf_cmd_rw(&sqe, NVME_IO_WRITE, 1, 0, 1);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, data, sizeof(data), true,
	    req_done, &r), 0);
	assert_int_equal(process_ok(p->host), 0);
	cid = raw_read_capsule(p->raw, NULL, NULL, 0);
	raw_send_c2h_data(p->raw, cid, 0, data, sizeof(data), true, false, false, false);
	assert_int_equal(nvmf_qpair_process(p->host), -1);
	expect_h2c_term_req(p->raw, 0x01, 8);
}

static void
test_host_c2h_data_beyond_buffer_terminates_with_fes_4(void **state)
{
	struct pair *p = *state;
	struct nvme_command sqe;
	struct req r = { .p = p };
	uint8_t buf[512], data[1024] = { 0 };
	uint16_t cid;

	raw_ctrl_connect(p);
	nvmf_cmd_rw(&sqe, NVME_IO_READ, 1, 0, 1);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, buf, sizeof(buf), false,
	    req_done, &r), 0);
	assert_int_equal(process_ok(p->host), 0);
	cid = raw_read_capsule(p->raw, NULL, NULL, 0);
	raw_send_c2h_data(p->raw, cid, 0, data, sizeof(data), true, false, false, false);
	assert_int_equal(nvmf_qpair_process(p->host), -1);
	expect_h2c_term_req(p->raw, 0x04, 12);
}

static void
test_host_c2h_data_out_of_order_terminates_with_fes_4(void **state)
{
	struct pair *p = *state;
	struct nvme_command sqe;
	struct req r = { .p = p };
	uint8_t buf[1024], data[512] = { 0 };
	uint16_t cid;

	raw_ctrl_connect(p);
	nvmf_cmd_rw(&sqe, NVME_IO_READ, 1, 0, 2);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, buf, sizeof(buf), false,
	    req_done, &r), 0);
	assert_int_equal(process_ok(p->host), 0);
	cid = raw_read_capsule(p->raw, NULL, NULL, 0);
	raw_send_c2h_data(p->raw, cid, 512, data, sizeof(data), true, false, false, false);
	assert_int_equal(nvmf_qpair_process(p->host), -1);
	expect_h2c_term_req(p->raw, 0x04, 12);
}

static void
test_host_c2h_success_without_last_terminates_with_fes_1(void **state)
{
	struct pair *p = *state;
	uint8_t buf[NVMF_PDU_MAX_PREFIX], data[64] = { 0 };

	raw_ctrl_connect(p);
	nvmf_pdu_encode_c2h_data(buf, 0, 0, sizeof(data), false, false, false, false, 0);
	buf[1] = F_SUCCESS;
	raw_write(p->raw, buf, 24);
	raw_write(p->raw, data, sizeof(data));
	assert_int_equal(nvmf_qpair_process(p->host), -1);
	expect_h2c_term_req(p->raw, 0x01, 1);
}

static void
test_host_r2t_outside_transfer_terminates_with_fes_4(void **state)
{
	struct pair *p = *state;
	struct nvme_command sqe;
	struct req r = { .p = p };
	static uint8_t data[8192];
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	uint16_t cid;

	raw_ctrl_connect(p);			/* I/O queue: no in-capsule data */
	nvmf_cmd_rw(&sqe, NVME_IO_WRITE, 1, 0, 16);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, data, sizeof(data), true,
	    req_done, &r), 0);
	assert_int_equal(process_ok(p->host), 0);
	cid = raw_read_capsule(p->raw, NULL, NULL, 0);
	raw_write(p->raw, buf, nvmf_pdu_encode_r2t(buf, cid, 1, 4096, 8192, false));
	assert_int_equal(nvmf_qpair_process(p->host), -1);
	expect_h2c_term_req(p->raw, 0x04, 12);
}

static void
test_host_r2t_with_zero_length_terminates_with_fes_4(void **state)
{
	struct pair *p = *state;
	struct nvme_command sqe;
	struct req r = { .p = p };
	static uint8_t data[8192];
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	uint16_t cid;

	raw_ctrl_connect(p);
	nvmf_cmd_rw(&sqe, NVME_IO_WRITE, 1, 0, 16);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, data, sizeof(data), true,
	    req_done, &r), 0);
	assert_int_equal(process_ok(p->host), 0);
	cid = raw_read_capsule(p->raw, NULL, NULL, 0);
	raw_write(p->raw, buf, nvmf_pdu_encode_r2t(buf, cid, 1, 0, 0, false));
	assert_int_equal(nvmf_qpair_process(p->host), -1);
	expect_h2c_term_req(p->raw, 0x04, 12);
}

static void
test_host_r2t_for_a_read_terminates_with_fes_2(void **state)
{
	struct pair *p = *state;
	struct nvme_command sqe;
	struct req r = { .p = p };
	uint8_t buf[NVMF_PDU_MAX_PREFIX], data[512];
	uint16_t cid;

	raw_ctrl_connect(p);
	nvmf_cmd_rw(&sqe, NVME_IO_READ, 1, 0, 1);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, data, sizeof(data), false,
	    req_done, &r), 0);
	assert_int_equal(process_ok(p->host), 0);
	cid = raw_read_capsule(p->raw, NULL, NULL, 0);
	raw_write(p->raw, buf, nvmf_pdu_encode_r2t(buf, cid, 1, 0, 512, false));
	assert_int_equal(nvmf_qpair_process(p->host), -1);
	expect_h2c_term_req(p->raw, 0x02, 8);
}

static void
test_host_r2t_for_in_capsule_write_terminates_with_fes_2(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params();
	struct nvme_command sqe;
	struct req r = { .p = p };
	uint8_t buf[NVMF_PDU_MAX_PREFIX], data[512] = { 0 };
	uint16_t cid;

	raw_ctrl_connect_opts(p, &hp, false, false, 65536, 32, true);	/* admin */
	nvmf_cmd_rw(&sqe, NVME_IO_WRITE, 1, 0, 1);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, data, sizeof(data), true,
	    req_done, &r), 0);
	assert_int_equal(process_ok(p->host), 0);
	cid = raw_read_capsule(p->raw, NULL, NULL, 0);
	raw_write(p->raw, buf, nvmf_pdu_encode_r2t(buf, cid, 1, 0, 512, false));
	assert_int_equal(nvmf_qpair_process(p->host), -1);
	expect_h2c_term_req(p->raw, 0x02, 8);
}

static void
test_host_pdu_for_the_controller_terminates_with_fes_2(void **state)
{
	struct pair *p = *state;
	struct nvme_command sqe = make_sqe(NVME_ADMIN_KEEP_ALIVE, 1, 0, 0, 0);
	uint8_t buf[NVMF_PDU_MAX_PREFIX];

	raw_ctrl_connect(p);
	raw_write(p->raw, buf, nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, false, 0, 0));
	assert_int_equal(nvmf_qpair_process(p->host), -1);
	expect_h2c_term_req(p->raw, 0x02, 0);
}

static void
test_host_bad_header_field_terminates_with_fes_1(void **state)
{
	struct pair *p = *state;
	struct nvme_completion cqe = { 0 };
	uint8_t buf[NVMF_PDU_MAX_PREFIX];

	raw_ctrl_connect(p);
	nvmf_pdu_encode_capsule_resp(buf, &cqe, false);
	buf[2] = 28;				/* HLEN */
	raw_write(p->raw, buf, 24);
	assert_int_equal(nvmf_qpair_process(p->host), -1);
	expect_h2c_term_req(p->raw, 0x01, 2);
}

static void
test_host_term_req_from_controller_fails_qpair(void **state)
{
	struct pair *p = *state;
	struct nvme_command sqe;
	struct req r = { .p = p };
	uint8_t buf[NVMF_PDU_MAX_PREFIX], bad[24] = { 0x05, 0, 24, 0 };

	raw_ctrl_connect(p);
	nvmf_cmd_keep_alive(&sqe);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, NULL, 0, false, req_done, &r), 0);
	assert_int_equal(process_ok(p->host), 0);
	raw_write(p->raw, buf, nvmf_pdu_encode_term_req(buf, true, 0x02, 0, bad,
	    sizeof(bad)));
	assert_int_equal(nvmf_qpair_process(p->host), -1);
	assert_true(nvmf_qpair_failed(p->host));
	assert_non_null(strstr(nvmf_qpair_error(p->host), "controller terminated"));
	assert_non_null(strstr(nvmf_qpair_error(p->host), "PDU Sequence Error"));
	assert_int_equal(nvmf_host_submit(p->host, &sqe, NULL, 0, false, req_done, &r),
	    -ENOTCONN);
	/* The outstanding command ends when the queue pair is freed. */
	assert_false(r.done);
	nvmf_qpair_free(p->host);
	p->host = NULL;
	assert_true(r.done);
	assert_true(r.lost);
}

static void
test_host_peer_close_fails_qpair(void **state)
{
	struct pair *p = *state;

	raw_ctrl_connect(p);
	close(p->raw);
	p->raw = -1;
	assert_int_equal(nvmf_qpair_process(p->host), -1);
	assert_string_equal(nvmf_qpair_error(p->host), "connection closed by peer");
}

static void
test_free_with_outstanding_commands_calls_back_with_null(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	struct nvme_command sqe;
	struct req r[4];
	static uint8_t w[16384], rd[4096];

	connect_pair(p, &hp, &cp, 32);
	p->tgt.hold = true;			/* the controller never answers */
	for (int i = 0; i < 4; i++)
		r[i] = (struct req){ .p = p };
	nvmf_cmd_keep_alive(&sqe);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, NULL, 0, false, req_done, &r[0]), 0);
	nvmf_cmd_rw(&sqe, NVME_IO_WRITE, 1, 0, 32);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, w, sizeof(w), true, req_done,
	    &r[1]), 0);
	nvmf_cmd_rw(&sqe, NVME_IO_READ, 1, 0, 8);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, rd, sizeof(rd), false, req_done,
	    &r[2]), 0);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(process_ok(p->host), 0);
		assert_int_equal(process_ok(p->ctrl), 0);
	}
	assert_int_equal(p->tgt.nheld, 3);
	/* One more that never left the host. */
	nvmf_cmd_keep_alive(&sqe);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, NULL, 0, false, req_done, &r[3]), 0);
	assert_int_equal(nvmf_host_outstanding(p->host), 4);
	nvmf_qpair_free(p->host);
	p->host = NULL;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_true(r[i].lost);
	}
}

static void
test_host_execute_times_out(void **state)
{
	struct pair *p = *state;
	struct nvme_command sqe;
	struct nvme_completion cqe;
	long t0;

	raw_ctrl_connect(p);
	nvmf_cmd_keep_alive(&sqe);
	t0 = now_ms();
	assert_int_equal(nvmf_host_execute(p->host, &sqe, NULL, 0, false, &cqe, 100),
	    -ETIMEDOUT);
	assert_true(now_ms() - t0 >= 90);
	assert_true(now_ms() - t0 < 2000);
	assert_int_equal(nvmf_host_outstanding(p->host), 0);
	/* The command went out; the connection was then ended on purpose. */
	raw_read_capsule(p->raw, NULL, NULL, 0);
	expect_h2c_term_req(p->raw, 0x02, 0);
	assert_true(nvmf_qpair_failed(p->host));
	assert_int_equal(nvmf_host_execute(p->host, &sqe, NULL, 0, false, &cqe, 100),
	    -ECONNRESET);
}

struct ctrl_runner {
	struct nvmf_qpair *qp;
	volatile bool stop;
};

static void *
ctrl_thread(void *arg)
{
	struct ctrl_runner *c = arg;

	while (!c->stop && nvmf_qpair_poll(c->qp, 10) == 0)
		;
	return NULL;
}

static void
test_host_execute_round_trip(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params(), cp = ctrl_params();
	struct ctrl_runner run = { 0 };
	struct nvme_command sqe;
	struct nvme_completion cqe;
	static uint8_t id[4096];
	pthread_t th;

	connect_pair_opts(p, &hp, &cp, 32, true, true, false);
	fill_pattern(p->tgt.store, sizeof(id), 90);
	run.qp = p->ctrl;
	assert_int_equal(pthread_create(&th, NULL, ctrl_thread, &run), 0);
	nvmf_cmd_identify(&sqe, NVME_CNS_CONTROLLER, 0);
	assert_int_equal(nvmf_host_execute(p->host, &sqe, id, sizeof(id), false, &cqe,
	    TIMEOUT_MS), 0);
	assert_int_equal(NVME_CQE_STATUS(cqe.status), 0);
	nvmf_cmd_get_features(&sqe, NVME_FEAT_KATO);
	sqe.cdw11 = 0x1234;
	assert_int_equal(nvmf_host_execute(p->host, &sqe, NULL, 0, false, &cqe,
	    TIMEOUT_MS), 0);
	assert_int_equal(cqe.cdw0, 0x1234);
	run.stop = true;
	pthread_join(th, NULL);
	assert_memory_equal(id, p->tgt.store, sizeof(id));
}

struct drain {
	int fd;
	uint8_t *stream;
	size_t len, cap;
};

/* Reads what is there now; with wait_eof, everything until the peer closes. */
static void
drain_raw(struct drain *d, bool wait_eof)
{
	for (;;) {
		struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
		ssize_t n;

		if (wait_eof && poll(&pfd, 1, 500) <= 0)
			return;
		n = recv(d->fd, d->stream + d->len, d->cap - d->len, MSG_DONTWAIT);
		if (n <= 0 || d->len + (size_t)n == d->cap) {
			if (n > 0)
				d->len += (size_t)n;
			return;
		}
		d->len += (size_t)n;
	}
}

static struct drain *drain_in_callback;

static void
drain_done(void *arg, const struct nvme_completion *cqe)
{
	req_done(arg, cqe);
	if (cqe != NULL && drain_in_callback != NULL)
		drain_raw(drain_in_callback, false);	/* the peer reads meanwhile */
}

/*
 * When the host must terminate while a PDU is half sent, the termination
 * request may not land in the middle of that PDU: the peer would parse
 * part of the reason as data and the rest as garbage.
 */
static void
test_term_req_never_lands_inside_a_half_sent_pdu(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params();
	struct nvme_command sqe;
	struct req r[9];
	static uint8_t data[8][8192];
	struct drain d = { 0 };
	int small = 4096;
	size_t pos = 0;

	raw_ctrl_connect_opts(p, &hp, false, false, 65536, 32, true);	/* admin: ICD */
	assert_int_equal(setsockopt(nvmf_qpair_fd(p->host), SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof(small)), 0);
	d.fd = p->raw;
	d.cap = 1024 * 1024;
	d.stream = malloc(d.cap);
	assert_non_null(d.stream);
	memset(data, 0xee, sizeof(data));	/* nothing like a PDU header */
	for (int i = 0; i < 9; i++)
		r[i] = (struct req){ .p = p };
	nvmf_cmd_keep_alive(&sqe);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, NULL, 0, false, drain_done,
	    &r[0]), 0);
	nvmf_cmd_rw(&sqe, NVME_IO_WRITE, 1, 0, 16);
	for (int i = 0; i < 8; i++)
		assert_int_equal(nvmf_host_submit(p->host, &sqe, data[i], 8192, true,
		    req_done, &r[i + 1]), 0);
	assert_int_equal(process_ok(p->host), 0);
	assert_true(nvmf_qpair_tx_pending(p->host));	/* the socket is full */
	/* A good response (CID 0), then one for a command that does not exist. */
	raw_send_resp(p->raw, 0, 0, 1);
	raw_send_resp(p->raw, 31, 0, 2);
	drain_in_callback = &d;
	assert_int_equal(nvmf_qpair_process(p->host), -1);
	drain_in_callback = NULL;
	assert_int_equal(r[0].calls, 1);
	drain_raw(&d, true);
	/* The stream must still parse as whole PDUs. */
	while (pos + 8 <= d.len) {
		uint8_t type = d.stream[pos];
		uint32_t plen = le32(d.stream + pos + 4);

		if (type != T_CMD && type != T_H2C_TERM) {
			free(d.stream);
			fail_msg("byte %zu of the host's stream: PDU type 0x%02x", pos, type);
		}
		if (type == T_H2C_TERM && le16(d.stream + pos + 8) != 0x01) {
			free(d.stream);
			fail_msg("H2CTermReq with FES 0x%x", le16(d.stream + pos + 8));
		}
		if (pos + plen > d.len)
			break;
		pos += plen;
	}
	/*
	 * A connection torn down in the middle of a PDU may end there: that is
	 * a truncation the peer sees as such. What may not happen is the
	 * termination request inside the unfinished PDU, read as its data.
	 */
	for (size_t i = pos + 1; pos < d.len && i + 8 <= d.len; i++) {
		if (d.stream[i] == T_H2C_TERM && d.stream[i + 1] == 0 &&
		    d.stream[i + 2] == 24 && d.stream[i + 3] == 0) {
			free(d.stream);
			fail_msg("H2CTermReq at byte %zu of the host's stream, inside the "
			    "PDU that starts at byte %zu", i, pos);
		}
	}
	free(d.stream);
	assert_true(nvmf_qpair_failed(p->host));
}

static volatile sig_atomic_t got_sigpipe;

static void
on_sigpipe(int sig)
{
	(void)sig;
	got_sigpipe = 1;
}

static int close_in_callback = -1;

static void
close_done(void *arg, const struct nvme_completion *cqe)
{
	req_done(arg, cqe);
	if (cqe != NULL && close_in_callback >= 0) {
		close(close_in_callback);	/* the peer goes away meanwhile */
		close_in_callback = -1;
	}
}

/*
 * A library must not raise SIGPIPE in its caller: a peer that closes while a
 * PDU is half sent and a termination request is due ends the connection,
 * not the process.
 */
static void
test_peer_gone_while_terminating_mid_pdu_raises_no_sigpipe(void **state)
{
	struct pair *p = *state;
	struct nvmf_association_params hp = host_params();
	struct sigaction sa = { .sa_handler = on_sigpipe }, old;
	struct nvme_command sqe;
	struct req r[9];
	static uint8_t data[8][8192];
	int small = 4096;

	raw_ctrl_connect_opts(p, &hp, false, false, 65536, 32, true);	/* admin: ICD */
	assert_int_equal(setsockopt(nvmf_qpair_fd(p->host), SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof(small)), 0);
	for (int i = 0; i < 9; i++)
		r[i] = (struct req){ .p = p };
	nvmf_cmd_keep_alive(&sqe);
	assert_int_equal(nvmf_host_submit(p->host, &sqe, NULL, 0, false, close_done,
	    &r[0]), 0);
	nvmf_cmd_rw(&sqe, NVME_IO_WRITE, 1, 0, 16);
	for (int i = 0; i < 8; i++)
		assert_int_equal(nvmf_host_submit(p->host, &sqe, data[i], 8192, true,
		    req_done, &r[i + 1]), 0);
	assert_int_equal(process_ok(p->host), 0);
	assert_true(nvmf_qpair_tx_pending(p->host));	/* a PDU is half sent */
	raw_send_resp(p->raw, 0, 0, 1);
	raw_send_resp(p->raw, 31, 0, 2);		/* unknown CID: terminate */
	got_sigpipe = 0;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGPIPE, &sa, &old), 0);
	close_in_callback = p->raw;
	p->raw = -1;
	assert_int_equal(nvmf_qpair_process(p->host), -1);
	close_in_callback = -1;
	sigaction(SIGPIPE, &old, NULL);
	assert_int_equal(r[0].calls, 1);
	assert_true(nvmf_qpair_failed(p->host));
	assert_int_equal(got_sigpipe, 0);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_pair, teardown_pair)
	const struct CMUnitTest tests[] = {
		/* handshake */
		T(test_handshake_without_digests),
		T(test_handshake_with_digests_when_controller_permits),
		T(test_handshake_digests_off_when_host_does_not_ask),
		T(test_handshake_header_digest_only),
		T(test_handshake_host_fails_when_header_digest_refused),
		T(test_handshake_host_fails_when_data_digest_refused),
		T(test_handshake_bad_icreq_pfv_answered_with_c2h_term_req),
		T(test_handshake_bad_icreq_hpda_answered_with_c2h_term_req),
		T(test_handshake_capsule_before_icreq_is_sequence_error),
		T(test_handshake_icresp_bad_maxh2cdata_answered_with_h2c_term_req),
		T(test_handshake_icresp_enabling_unrequested_digest_refused),
		T(test_handshake_icresp_wrong_type_refused),
		T(test_handshake_c2h_term_req_instead_of_icresp),
		T(test_handshake_times_out_without_icresp),
		T(test_handshake_peer_closes_before_icresp),
		T(test_association_parameters_checked),
		/* commands */
		T(test_command_without_data),
		T(test_write_in_capsule),
		T(test_write_in_capsule_on_admin_queue),
		T(test_write_through_r2t_split_by_maxh2cdata),
		T(test_zero_copy_placement_and_c2h_from_caller_memory),
		T(test_host_splits_h2c_data_on_the_wire),
		T(test_read_returns_c2h_data),
		T(test_large_read_and_write_over_tcp_loopback_with_digests),
		T(test_read_after_a_large_payload_stops_short_of_the_next_one),
		T(test_tcp_congestion_is_set_on_both_sides_sockets),
		T(test_tcp_congestion_default_leaves_the_systems),
		T(test_tcp_congestion_unknown_or_malformed_fails_the_association),
		T(test_tcp_congestion_check_answers_for_a_name_alone),
		T(test_tcp_congestion_past_an_older_callers_size_is_ignored),
		T(test_read_without_sq_flow_control_completes),
		T(test_controller_uses_success_flag_without_sq_flow_control),
		T(test_capsule_pdo_without_data_served_and_reported),
		T(test_capsule_pdo_without_data_refused_by_handler),
		T(test_controller_sends_c2h_data_then_response_with_sq_flow_control),
		T(test_controller_r2t_on_the_wire),
		T(test_many_commands_in_flight),
		T(test_submit_busy_when_sq_full),
		T(test_digests_with_data_in_every_direction),
		T(test_data_alignment_honoured_in_both_directions),
		T(test_read_shorter_than_buffer_completes),
		T(test_bytes_arriving_one_at_a_time),
		T(test_host_execute_round_trip),
		/* hostile host, real controller */
		T(test_ctrl_header_digest_mismatch_sends_c2h_term_req),
		T(test_ctrl_data_digest_mismatch_completes_with_transient_transport_error),
		T(test_transient_transport_error_allows_retry),
		T(test_ctrl_data_digest_mismatch_on_h2c_data),
		T(test_ctrl_h2c_data_beyond_r2t_terminates_with_fes_4),
		T(test_ctrl_h2c_data_at_wrong_offset_terminates_with_fes_4),
		T(test_ctrl_h2c_data_unknown_transfer_tag_terminates_with_fes_1),
		T(test_ctrl_h2c_data_without_any_r2t_terminates_with_fes_1),
		T(test_ctrl_h2c_data_above_maxh2cdata_terminates_with_fes_5),
		T(test_ctrl_h2c_data_last_flag_missing_terminates),
		T(test_ctrl_in_capsule_data_above_queue_limit_terminates_with_fes_5),
		T(test_ctrl_pdu_for_the_host_terminates_with_fes_2),
		T(test_ctrl_unknown_pdu_type_terminates_with_fes_1),
		T(test_ctrl_second_icreq_terminates_with_fes_2),
		T(test_ctrl_rejects_bad_data_pointers_with_status),
		T(test_ctrl_term_req_from_host_fails_qpair),
		T(test_ctrl_peer_close_fails_qpair),
		T(test_ctrl_peer_close_in_the_middle_of_data),
		T(test_ctrl_free_with_command_waiting_for_data),
		T(test_ctrl_completion_after_failure_frees_capsule),
		/* hostile controller, real host */
		T(test_host_header_digest_mismatch_sends_h2c_term_req),
		T(test_host_data_digest_mismatch_completes_with_transient_transport_error),
		T(test_host_success_flag_completes_without_response),
		T(test_host_capsule_resp_unknown_cid_terminates_with_fes_1),
		T(test_host_capsule_resp_cid_beyond_queue_terminates_with_fes_1),
		T(test_host_c2h_data_unknown_cid_terminates_with_fes_1),
		T(test_host_c2h_data_for_a_write_terminates_with_fes_1),
		T(test_host_c2h_data_beyond_buffer_terminates_with_fes_4),
		T(test_host_c2h_data_out_of_order_terminates_with_fes_4),
		T(test_host_c2h_success_without_last_terminates_with_fes_1),
		T(test_host_r2t_outside_transfer_terminates_with_fes_4),
		T(test_host_r2t_with_zero_length_terminates_with_fes_4),
		T(test_host_r2t_for_a_read_terminates_with_fes_2),
		T(test_host_r2t_for_in_capsule_write_terminates_with_fes_2),
		T(test_host_pdu_for_the_controller_terminates_with_fes_2),
		T(test_host_bad_header_field_terminates_with_fes_1),
		T(test_host_term_req_from_controller_fails_qpair),
		T(test_host_peer_close_fails_qpair),
		T(test_free_with_outstanding_commands_calls_back_with_null),
		T(test_host_execute_times_out),
		T(test_term_req_never_lands_inside_a_half_sent_pdu),
		T(test_peer_gone_while_terminating_mid_pdu_raises_no_sigpipe),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
