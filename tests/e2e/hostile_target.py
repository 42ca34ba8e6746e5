# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""A minimal NVMe/TCP target that reports what a test tells it to.

nvmfd reports only sane values; a host must also survive targets that do not.
This one speaks enough NVMe/TCP and NVMe over Fabrics for nvmecontrol to
connect and nvmf-hostd to run a controller: ICReq/ICResp (no digests), Fabrics
Connect, Property Get/Set (CAP, VS, CC, CSTS, shutdown), Disconnect, Identify
(controller, namespace, active namespace list, namespace descriptors), Set and
Get Features, Asynchronous Event Requests, Get Log Page (the Changed Namespace
List; other pages read as zeroes), Keep Alive, and Read, Write, Flush, Write
Zeroes and Dataset Management on namespaces kept in memory. Host data comes
in the capsule or after an R2T.

Knobs, set before or after a host connects:
  Namespace.report_nsze / report_lbads / report_ms / report_flbas: what Identify
      Namespace says, whatever the namespace really is;
  HostileTarget.mdts / nn: what Identify Controller says;
  HostileTarget.scan_fault: "refuse" (an error status) or "break" (every
      connection of that controller closed) when the host asks for the active
      namespace list, i.e. during nvmf-hostd's namespace scan;
  HostileTarget.namespaces_changed(): a Namespace Attribute Changed AEN to
      every connected controller (the host then reads the log and rescans).

Usage:
    t = HostileTarget([Namespace(1, 32768)]).start()
    ... nvmecontrol connect 127.0.0.1:<t.port> <t.subnqn> ...
    t.close()
"""

import socket
import struct
import threading
import uuid

ADDR = "127.0.0.1"

PDU_ICREQ, PDU_ICRESP, PDU_H2C_TERM, PDU_C2H_TERM = 0x00, 0x01, 0x02, 0x03
PDU_CMD, PDU_RESP, PDU_H2C_DATA, PDU_C2H_DATA, PDU_R2T = 0x04, 0x05, 0x06, 0x07, 0x09
F_DATA_LAST = 0x04
SGL_TRANSPORT = 0x5A
MAXH2CDATA = 128 * 1024

# Status values: SC | SCT << 8 | DNR << 14.
DNR = 0x4000
SC_INVALID_OPCODE = 0x01 | DNR
SC_INVALID_FIELD = 0x02 | DNR
SC_LBA_OUT_OF_RANGE = 0x80 | DNR
SC_CONNECT_INVALID_PARAMETERS = 0x182 | DNR

CAP = 127 | (1 << 16) | (20 << 24) | (1 << 37)     # MQES 127, CQR, TO 10 s, CSS NVM
VS = 0x00010400


class Namespace:
    """A namespace in memory: blocks of 2^lbads bytes. The report_* values, when
    not None, are what Identify Namespace claims instead of the truth."""

    def __init__(self, nsid, blocks, lbads=9):
        self.nsid = nsid
        self.lbads = lbads
        self.blocks = blocks
        self.data = bytearray(blocks << lbads)
        self.report_nsze = None
        self.report_lbads = None
        self.report_ms = 0
        self.report_flbas = 0

    def identify(self):
        d = bytearray(4096)
        nsze = self.blocks if self.report_nsze is None else self.report_nsze
        struct.pack_into("<QQQ", d, 0, nsze, nsze, nsze)
        d[25] = 0                                   # NLBAF: one format
        d[26] = self.report_flbas
        lbads = self.lbads if self.report_lbads is None else self.report_lbads
        struct.pack_into("<HBB", d, 128, self.report_ms, lbads, 0)
        d[104:120] = uuid.uuid5(uuid.NAMESPACE_OID, "ns%d" % self.nsid).bytes   # NGUID
        return bytes(d)


class _Controller:
    def __init__(self, target, cntlid, subnqn, hostnqn):
        self.target = target
        self.cntlid = cntlid
        self.subnqn = subnqn
        self.hostnqn = hostnqn
        self.cc = 0
        self.csts = 0
        self.kato = 0
        self.queues = {}            # qid -> _Queue
        self.aers = []              # (queue, cid) waiting for an event
        self.changed = []           # NSIDs for the Changed Namespace List


class _Queue:
    def __init__(self, target, conn):
        self.target = target
        self.conn = conn
        self.send_lock = threading.Lock()
        self.qid = None
        self.qsize = 32
        self.sqhd = 0
        self.ctrl = None
        self.writes = {}            # cid -> [sqe, buffer, bytes received]

    def send(self, data):
        with self.send_lock:
            try:
                self.conn.sendall(data)
            except OSError:
                pass                # the host went away; its reader thread ends too

    def respond(self, cid, status=0, cdw0=0, cdw1=0):
        cqe = struct.pack("<IIHHHH", cdw0, cdw1, self.sqhd, self.qid or 0, cid, status << 1)
        self.send(struct.pack("<BBBBI", PDU_RESP, 0, 24, 0, 24) + cqe)

    def send_data(self, cid, data, limit):
        data = bytes(data[:limit])
        if data:
            hdr = struct.pack("<BBBBI", PDU_C2H_DATA, F_DATA_LAST, 24, 24, 24 + len(data))
            self.send(hdr + struct.pack("<HHII4x", cid, 0, 0, len(data)) + data)


def _sqe_fields(sqe):
    opc, flags, cid, nsid = struct.unpack_from("<BBHI", sqe, 0)
    sgl_len, = struct.unpack_from("<I", sqe, 32)
    cdw = struct.unpack_from("<6I", sqe, 40)
    return opc, cid, nsid, sgl_len, sqe[39], cdw


class HostileTarget:
    def __init__(self, namespaces=None, subnqn=None, mdts=5, nn=None):
        self.namespaces = {ns.nsid: ns for ns in (namespaces or [Namespace(1, 32768)])}
        self.subnqn = subnqn or "nqn.2024-01.io.nvmf.e2e:hostile-%s" % uuid.uuid4().hex[:12]
        self.mdts = mdts
        self.nn = nn                # None: the highest NSID
        self.scan_fault = None
        self.lock = threading.Lock()
        self.controllers = {}
        self.next_cntlid = 1
        self.conns = []
        self.threads = []
        self.errors = []            # what went wrong in a connection (for a test to show)
        self.seen = []              # (opcode or "fabrics:N", CNS/FID/LID) of admin commands
        self.sock = None
        self.port = None
        self.stopping = False

    # ----------------------------------------------------------- life cycle
    def start(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ADDR, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self.threads.append(t)
        return self

    def close(self):
        self.stopping = True
        self.break_connections()
        for t in self.threads:
            t.join(timeout=5)
        self.sock.close()

    def break_connections(self, ctrl=None):
        """Closes every connection (of one controller, if given): the association ends."""
        with self.lock:
            conns = list(self.conns) if ctrl is None else [q.conn for q in
                                                           ctrl.queues.values()]
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def namespaces_changed(self, nsids=None):
        """Namespace Attribute Changed: each controller's waiting AER completes."""
        nsids = sorted(self.namespaces) if nsids is None else nsids
        with self.lock:
            ctrls = list(self.controllers.values())
        sent = 0
        for ctrl in ctrls:
            ctrl.changed = sorted(set(ctrl.changed) | set(nsids))
            if ctrl.aers:
                q, cid = ctrl.aers.pop(0)
                q.respond(cid, cdw0=0x2 | (0x00 << 8) | (0x04 << 16))   # notice, NS, LID 4
                sent += 1
        return sent

    # ------------------------------------------------------------ identify
    def identify_controller(self, ctrl):
        d = bytearray(4096)
        struct.pack_into("<HH", d, 0, 0x1b36, 0x1b36)
        d[4:24] = b"HOSTILE0001".ljust(20)
        d[24:64] = b"nvmf hostile target".ljust(40)
        d[64:72] = b"0.1".ljust(8)
        d[77] = self.mdts
        struct.pack_into("<HI", d, 78, ctrl.cntlid, VS)
        struct.pack_into("<I", d, 92, 1 << 8)               # OAES: namespace notices
        d[111] = 1                                           # I/O controller
        d[259] = 3                                           # AERL
        d[261] = 0x04                                        # LPA: extended data
        struct.pack_into("<H", d, 320, 1)                    # KAS 100 ms
        d[512], d[513] = 0x66, 0x44
        nn = self.nn if self.nn is not None else max(self.namespaces, default=0)
        struct.pack_into("<HIH", d, 514, 128, nn, 0x0C)     # MAXCMD, NN, ONCS (WZ, DSM)
        struct.pack_into("<I", d, 536, 1 | (1 << 20))        # SGLS
        nqn = ctrl.subnqn.encode()
        d[768:768 + len(nqn)] = nqn
        struct.pack_into("<IIHBB", d, 1792, 4 + 512, 1, 0, 0, 1)   # IOCCSZ: 8 KiB in capsule
        return bytes(d)

    # ------------------------------------------------------------- serving
    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.conns.append(conn)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self.threads.append(t)

    @staticmethod
    def _recv(conn, n):
        out = bytearray()
        while len(out) < n:
            b = conn.recv(n - len(out))
            if not b:
                raise EOFError
            out += b
        return bytes(out)

    def _serve(self, conn):
        q = _Queue(self, conn)
        try:
            req = self._recv(conn, 128)
            if req[0] != PDU_ICREQ:
                return
            resp = bytearray(128)
            struct.pack_into("<BBBBIHBBI", resp, 0, PDU_ICRESP, 0, 128, 0, 128, 0, 0, 0,
                             MAXH2CDATA)
            q.send(bytes(resp))
            while True:
                ptype, flags, hlen, pdo, plen = struct.unpack("<BBBBI", self._recv(conn, 8))
                pdu = struct.pack("<BBBBI", ptype, flags, hlen, pdo, plen) + \
                    self._recv(conn, plen - 8)
                if ptype == PDU_CMD:
                    self._command(q, pdu[8:72], pdu[pdo:] if pdo else b"")
                elif ptype == PDU_H2C_DATA:
                    self._h2c(q, pdu, pdo)
                else:
                    return              # H2CTermReq or nonsense: the host is leaving
        except (EOFError, OSError):
            pass
        except Exception as e:  # noqa: BLE001 - kept for the test to report
            self.errors.append("%s: %r" % (q.qid, e))
        finally:
            self._gone(q)
            try:
                conn.close()
            except OSError:
                pass

    def _gone(self, q):
        with self.lock:
            if q.conn in self.conns:
                self.conns.remove(q.conn)
            c = q.ctrl
            if c is not None and q.qid == 0 and self.controllers.get(c.cntlid) is c:
                del self.controllers[c.cntlid]
                c.aers = []

    def _command(self, q, sqe, data):
        q.sqhd = (q.sqhd + 1) % q.qsize
        opc, cid, nsid, sgl_len, sgl_type, cdw = _sqe_fields(sqe)
        if opc == 0x7F:
            self._fabrics(q, sqe, cid, data)
            return
        if q.ctrl is None:
            q.respond(cid, 0x0C | DNR)      # Command Sequence Error: Connect first
            return
        wants_data = q.qid != 0 and opc in (0x01, 0x09)          # Write, DSM
        if wants_data and not data and sgl_len > 0:
            if sgl_type != SGL_TRANSPORT:
                q.respond(cid, SC_INVALID_FIELD)
                return
            # Ask for the data; the command runs once all of it is here.
            q.writes[cid] = [sqe, bytearray(sgl_len), 0]
            q.send(struct.pack("<BBBBI", PDU_R2T, 0, 24, 0, 24) +
                   struct.pack("<HHII4x", cid, cid, 0, sgl_len))
            return
        if q.qid == 0:
            self._admin(q, sqe, data)
        else:
            self._io(q, sqe, data)

    def _h2c(self, q, pdu, pdo):
        cccid, ttag, datao, datal = struct.unpack_from("<HHII", pdu, 8)
        w = q.writes.get(cccid)
        if w is None:
            raise ValueError("H2CData for CID %d that asked for none" % cccid)
        w[1][datao:datao + datal] = pdu[pdo:pdo + datal]
        w[2] += datal
        if w[2] >= len(w[1]):
            del q.writes[cccid]
            self._io(q, w[0], bytes(w[1]))

    def _fabrics(self, q, sqe, cid, data):
        fctype = sqe[4]
        self.seen.append(("fabrics:%d" % fctype, None))
        if fctype == 0x01:                                   # Connect
            qid, sqsize = struct.unpack_from("<HH", sqe, 42)
            kato, = struct.unpack_from("<I", sqe, 48)
            cntlid, = struct.unpack_from("<H", data, 16)
            subnqn = bytes(data[256:512]).split(b"\0")[0].decode()
            hostnqn = bytes(data[512:768]).split(b"\0")[0].decode()
            q.qsize = sqsize + 1
            q.qid = qid
            q.sqhd = 1 % q.qsize
            with self.lock:
                if subnqn != self.subnqn:
                    ctrl = None
                elif qid == 0:
                    ctrl = _Controller(self, self.next_cntlid, subnqn, hostnqn)
                    ctrl.kato = kato
                    self.next_cntlid += 1
                    self.controllers[ctrl.cntlid] = ctrl
                else:
                    ctrl = self.controllers.get(cntlid)
                if ctrl is not None:
                    ctrl.queues[qid] = q
            if ctrl is None:
                q.respond(cid, SC_CONNECT_INVALID_PARAMETERS)
                return
            q.ctrl = ctrl
            q.respond(cid, cdw0=ctrl.cntlid)
        elif fctype == 0x04:                                 # Property Get
            ofst, = struct.unpack_from("<I", sqe, 44)
            ctrl = q.ctrl
            value = {0x00: CAP, 0x08: VS, 0x14: ctrl.cc if ctrl else 0,
                     0x1C: ctrl.csts if ctrl else 0}.get(ofst, 0)
            q.respond(cid, cdw0=value & 0xFFFFFFFF, cdw1=value >> 32)
        elif fctype == 0x00:                                 # Property Set
            ofst, = struct.unpack_from("<I", sqe, 44)
            value, = struct.unpack_from("<Q", sqe, 48)
            ctrl = q.ctrl
            if ctrl is not None and ofst == 0x14:
                ctrl.cc = value & 0xFFFFFFFF
                ctrl.csts = (1 if value & 1 else 0)
                if (value >> 14) & 3:
                    ctrl.csts |= 2 << 2                      # shutdown complete
            q.respond(cid)
        else:                                                # Disconnect and the rest
            q.respond(cid)

    def _admin(self, q, sqe, data):
        opc, cid, nsid, sgl_len, sgl_type, cdw = _sqe_fields(sqe)
        ctrl = q.ctrl
        if opc == 0x06:                                      # Identify
            cns = cdw[0] & 0xFF
            self.seen.append((opc, cns))
            if cns == 0x01:
                out = self.identify_controller(ctrl)
            elif cns == 0x00:
                ns = self.namespaces.get(nsid)
                out = ns.identify() if ns else bytes(4096)
            elif cns == 0x02:
                if self.scan_fault == "refuse":
                    q.respond(cid, SC_INVALID_FIELD)
                    return
                if self.scan_fault == "break":
                    self.break_connections(ctrl)
                    return
                ids = [n for n in sorted(self.namespaces) if n > nsid][:1024]
                out = struct.pack("<%dI" % len(ids), *ids).ljust(4096, b"\0")
            elif cns == 0x03:
                ns = self.namespaces.get(nsid)
                if ns is None:
                    q.respond(cid, 0x0B | DNR)               # Invalid Namespace
                    return
                nid = uuid.uuid5(uuid.NAMESPACE_OID, "ns%d" % nsid).bytes
                out = (struct.pack("<BBH", 3, 16, 0) + nid).ljust(4096, b"\0")
            else:
                q.respond(cid, SC_INVALID_FIELD)
                return
            q.send_data(cid, out, sgl_len)
            q.respond(cid)
        elif opc in (0x09, 0x0A):                            # Set / Get Features
            fid = cdw[0] & 0xFF
            self.seen.append((opc, fid))
            value = 0
            if fid == 0x07:
                n = min(8, (cdw[1] & 0xFFFF) + 1) if opc == 0x09 else 8
                value = (n - 1) | ((n - 1) << 16)
            elif fid == 0x0F:
                value = ctrl.kato
            q.respond(cid, cdw0=value)
        elif opc == 0x0C:                                    # Asynchronous Event Request
            self.seen.append((opc, None))
            with self.lock:
                ctrl.aers.append((q, cid))
        elif opc == 0x02:                                    # Get Log Page
            lid = cdw[0] & 0xFF
            self.seen.append((opc, lid))
            numd = ((cdw[0] >> 16) | ((cdw[1] & 0xFFFF) << 16)) + 1
            out = bytearray(numd * 4)
            if lid == 0x04:
                ids = ctrl.changed[:1024]
                ctrl.changed = []
                struct.pack_into("<%dI" % len(ids), out, 0, *ids)
            q.send_data(cid, out, sgl_len)
            q.respond(cid)
        elif opc == 0x18:                                    # Keep Alive
            q.respond(cid)
        else:
            self.seen.append((opc, None))
            q.respond(cid, SC_INVALID_OPCODE)

    def _io(self, q, sqe, data):
        opc, cid, nsid, sgl_len, sgl_type, cdw = _sqe_fields(sqe)
        ns = self.namespaces.get(nsid)
        if ns is None:
            q.respond(cid, 0x0B | DNR)                       # Invalid Namespace
            return
        if opc == 0x00:                                      # Flush
            q.respond(cid)
            return
        if opc == 0x09:                                      # DSM: deallocate reads zeroes
            for i in range((cdw[0] & 0xFF) + 1):
                _, nlb, slba = struct.unpack_from("<IIQ", data, 16 * i)
                lo, hi = slba << ns.lbads, (slba + nlb) << ns.lbads
                ns.data[lo:hi] = bytes(max(0, min(hi, len(ns.data)) - lo))
            q.respond(cid)
            return
        slba = cdw[0] | (cdw[1] << 32)
        nlb = (cdw[2] & 0xFFFF) + 1
        if slba + nlb > ns.blocks:
            q.respond(cid, SC_LBA_OUT_OF_RANGE)
            return
        lo, n = slba << ns.lbads, nlb << ns.lbads
        if opc in (0x01, 0x02) and n > (4096 << self.mdts if self.mdts else 1 << 30):
            q.respond(cid, SC_INVALID_FIELD)                 # more than MDTS
            return
        if opc == 0x02:                                      # Read
            q.send_data(cid, ns.data[lo:lo + n], sgl_len)
            q.respond(cid)
        elif opc == 0x01:                                    # Write
            if len(data) != n:
                q.respond(cid, SC_INVALID_FIELD)
                return
            ns.data[lo:lo + n] = data
            q.respond(cid)
        elif opc == 0x08:                                    # Write Zeroes
            ns.data[lo:lo + n] = bytes(n)
            q.respond(cid)
        else:
            q.respond(cid, SC_INVALID_OPCODE)
