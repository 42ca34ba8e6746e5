# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""nvmfd refuses a configuration it cannot take as written: each mistake makes
it exit non-zero before listening, with one line that names the file and the
key (and the line, for JSON syntax). Same for the command line: numbers are
decimal only, sizes cannot overflow."""

import copy
import json
import os
import subprocess

import pytest

from conftest import ADDR, NVMFD, free_port, new_nqn, port_accepts


def base_config(port):
    return {
        "listen": [{"address": ADDR, "port": port}],
        "subsystems": [{"nqn": new_nqn(), "namespaces": [{"device": "ramdisk:1M"}]}],
    }


def run_nvmfd(args, port, timeout=5.0):
    """Runs nvmfd to its exit; returns (exit status, output lines). A daemon that
    starts instead is stopped and reported."""
    proc = subprocess.Popen([NVMFD, "-d"] + args, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        listening = port_accepts(port)
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail("nvmfd %s started (%s) instead of refusing:\n%s" % (
            " ".join(args), "listening" if listening else "running", out))
    return proc.returncode, [line for line in out.splitlines() if line.strip()]


def assert_refused(args, port, *needles, rc=None):
    status, lines = run_nvmfd(args, port)
    assert status != 0, "nvmfd exited 0: %s" % lines
    if rc is not None:
        assert status == rc, "exit status %d, expected %d: %s" % (status, rc, lines)
    assert len(lines) == 1, "expected one line, got:\n%s" % "\n".join(lines)
    for n in needles:
        assert n in lines[0], "%r not in %r" % (n, lines[0])
    assert not port_accepts(port), "something listens on port %d" % port
    return lines[0]


def write_config(tmp_path, text):
    path = tmp_path / "nvmfd.json"
    path.write_text(text)
    return str(path)


# Each case: a change to a valid configuration and what the one line must name.
def set_ss(key, value):
    def f(c):
        c["subsystems"][0][key] = value
    return f


def set_top(key, value):
    def f(c):
        c[key] = value
    return f


def set_listen(key, value):
    def f(c):
        c["listen"][0][key] = value
    return f


def set_ns(key, value):
    def f(c):
        c["subsystems"][0]["namespaces"][0][key] = value
    return f


CASES = {
    # Wrong types: json-c asserted (allowed_hosts, ports) or nvmfd ignored them.
    "allowed_hosts_string": (set_ss("allowed_hosts", "nqn.2014-08.org.example:h1"),
                             "subsystems[0].allowed_hosts", "list"),
    "ports_integer": (set_ss("ports", 1), "subsystems[0].ports", "list"),
    "address_integer": (set_listen("address", 5), "listen[0].address", "string"),
    "port_string": (set_listen("port", "4420"), "listen[0].port", "integer"),
    "serial_integer": (set_ss("serial", 5), "subsystems[0].serial", "string"),
    "model_list": (set_ss("model", ["m"]), "subsystems[0].model", "string"),
    "nqn_integer": (set_ss("nqn", 7), "subsystems[0].nqn", "string"),
    "strict_string": (set_top("strict", "yes"), "strict", "true or false"),
    "port_entry_string": (set_ss("ports", ["1"]), "subsystems[0].ports[0]", "integer"),
    "host_entry_integer": (set_ss("allowed_hosts", [5]), "subsystems[0].allowed_hosts[0]",
                           "string"),
    "device_integer": (set_ns("device", 5), "subsystems[0].namespaces[0].device", "string"),
    "nsid_fraction": (set_ns("nsid", 1.5), "subsystems[0].namespaces[0].nsid", "integer"),
    "limit_string": (set_top("max_connections", "5"), "max_connections", "integer"),
    "limit_zero": (set_top("max_connections", 0), "max_connections", "1 to"),
    "discovery_true": (set_top("discovery", True), "discovery", "object"),
    "max_h2c_data_odd": (set_top("max_h2c_data", 4097), "max_h2c_data", "multiple of 4"),
    # Empty lists that would change the meaning of leaving the key out.
    "allowed_hosts_empty": (set_ss("allowed_hosts", []), "subsystems[0].allowed_hosts",
                            "empty"),
    "ports_empty": (set_ss("ports", []), "subsystems[0].ports", "empty"),
    "listen_empty": (set_top("listen", []), "listen", "empty"),
    # Names with control characters would reach the log and the wire.
    "host_nqn_newline": (set_ss("allowed_hosts", ["nqn.2014-08.org.example:a\nb"]),
                         "subsystems[0].allowed_hosts[0]", "control character"),
    "subsystem_nqn_control": (set_ss("nqn", "nqn.2014-08.org.example:\x01x"),
                              "subsystems[0].nqn", "control character"),
    "serial_too_long": (set_ss("serial", "S" * 21), "subsystems[0].serial", "20"),
    # Sizes: 16777217 TiB used to wrap to 1 TiB without a word.
    "ramdisk_overflow": (set_ns("device", "ramdisk:16777217T"),
                         "subsystems[0].namespaces[0]", "ramdisk:16777217T", "too large"),
    "ramdisk_hex": (set_ns("device", "ramdisk:0x10M"), "subsystems[0].namespaces[0]",
                    "decimal"),
    "unknown_limit_key": (set_top("max_connection", 5), "max_connection", "unknown key"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_config_mistake_is_refused(tmp_path, name):
    port = free_port()
    change, *needles = CASES[name]
    cfg = base_config(port)
    change(cfg)
    path = write_config(tmp_path, json.dumps(cfg))
    line = assert_refused(["-c", path], port, path + ": ", *needles, rc=1)
    assert line.startswith("nvmfd: "), line


def test_trailing_text_after_the_object_names_its_line(tmp_path):
    port = free_port()
    text = json.dumps(base_config(port), indent=1) + "\n\n{\"strict\": true}\n"
    line_no = text.count("\n", 0, text.rindex("{")) + 1
    path = write_config(tmp_path, text)
    assert_refused(["-c", path], port, "%s:%d:" % (path, line_no), "after the JSON object")


def test_syntax_error_names_its_line(tmp_path):
    port = free_port()
    lines = json.dumps(base_config(port), indent=1).splitlines()
    lines.insert(3, '  "strict": true,,')          # a stray comma on line 4
    path = write_config(tmp_path, "\n".join(lines))
    assert_refused(["-c", path], port, "%s:4:" % path, "invalid JSON")


def test_comments_are_not_json(tmp_path):
    port = free_port()
    text = json.dumps(base_config(port), indent=1).replace("{", "{ /* note */", 1)
    path = write_config(tmp_path, text)
    assert_refused(["-c", path], port, "%s:1:" % path, "invalid JSON")


def test_a_valid_configuration_still_starts(nvmfd):
    """The strictness refuses mistakes only: every key of nvmfd.8 at once."""
    port, dport = free_port(), free_port()
    cfg = base_config(port)
    cfg["discovery"] = {"address": ADDR, "port": dport}
    cfg.update({"strict": False, "header_digests": True, "data_digests": True,
                "allow_disable_sq_flow_control": True, "max_h2c_data": 131072,
                "max_connections": 64, "max_host_associations": 4,
                "max_discovery_associations": 4, "queue_data_limit": 8 << 20,
                "icreq_timeout": 5, "connect_timeout": 5, "discovery_kato": 60})
    ss = cfg["subsystems"][0]
    ss.update({"serial": "SERIAL1", "model": "nvmf test", "ports": [1], "strict": True,
               "allowed_hosts": ["nqn.2014-08.org.example:h1"]})
    ss["namespaces"][0].update({"nsid": 3, "block_size": 4096})
    t = nvmfd.start_config(copy.deepcopy(cfg))
    assert t.alive()
    assert "max_connections" not in t.log()


@pytest.mark.parametrize("args,needle", [
    (["-p", "0x10"], "port '0x10'"),
    (["-p", "+4420"], "port '+4420'"),
    (["-P", " 8009"], "discovery port ' 8009'"),
    (["-H", "4096x"], "MAXH2CDATA '4096x'"),
    (["-H", "-4096"], "MAXH2CDATA '-4096'"),
    (["--max-connections", "1e3"], "--max-connections '1e3'"),
    (["--queue-data-limit", "8M"], "--queue-data-limit '8M'"),
    (["--icreq-timeout", "0"], "--icreq-timeout '0'"),
], ids=["hex-port", "signed-port", "spaced-dport", "maxh2cdata-suffix",
        "negative-maxh2cdata", "limit-exponent", "limit-suffix", "timeout-zero"])
def test_command_line_numbers_are_decimal(args, needle):
    port = free_port()
    base = ["-a", ADDR, "-p", str(port), "-P", "0", "-n", new_nqn()]
    if args[0] in ("-p",):
        base = ["-a", ADDR, "-P", "0", "-n", new_nqn()]
    assert_refused(base + args + ["ramdisk:1M"], port, needle, rc=2)


def test_command_line_ramdisk_overflow():
    port = free_port()
    assert_refused(["-a", ADDR, "-p", str(port), "-P", "0", "ramdisk:16777217T"], port,
                   "ramdisk:16777217T", "too large", rc=1)


def test_command_line_subnqn_with_a_newline():
    port = free_port()
    assert_refused(["-a", ADDR, "-p", str(port), "-P", "0", "-n",
                    "nqn.2014-08.org.example:a\nb", "ramdisk:1M"], port, "SubNQN",
                   "control character", rc=2)


def test_unreadable_file_names_it(tmp_path):
    port = free_port()
    path = str(tmp_path / "missing.json")
    assert not os.path.exists(path)
    assert_refused(["-c", path], port, path, rc=1)
