#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
# Installs the Debian packages the build and the tests need, only those missing.
# Runs as root on a fresh Debian 12 machine (CI) or says what to install.
set -euo pipefail

PACKAGES=(
	build-essential pkg-config		# the build (gcc, libc6-dev, make; pkgconf)
	libisal-dev libjson-c-dev		# CRC32C digests, JSON configuration
	liburing-dev				# nvmfd's file namespaces through io_uring
	libnvme-dev libnvme1			# nvmecontrol: host NQN and ID, config.json, as nvme-cli (dlopen)
	libfuse3-dev fuse3			# nvmf-hostd's namespace files: libfuse3, fusermount3
	libcmocka-dev				# unit tests
	python3 python3-pytest			# end-to-end tests, the demo, guest.sh's agent client
	clang libclang-rt-14-dev		# libFuzzer and sanitizers
	tshark wireshark-common			# the nvme-tcp dissector as wire-format oracle; dumpcap
	qemu-system-x86 nvme-cli cpio kmod xz-utils	# the Linux kernel as a peer
	iproute2 procps nftables fio e2fsprogs valgrind	# failure and disk tests
	mandoc binutils				# the pages' lint; readelf and nm on the shared library
	libsystemd-dev systemd man-db		# sd_notify; systemd-analyze verify (which runs man)
	debhelper dpkg-dev lintian		# make deb
	gnuplot-nox				# make bench: the plot of bench/results
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing Debian packages: ${missing[*]} (run as root, or apt-get install them)" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt_install() { apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/nvmf-apt.log 2>&1; }
if ! apt_install; then
	apt-get update -q >/tmp/nvmf-apt-update.log 2>&1 || true
	apt_install || { tail -n 20 /tmp/nvmf-apt.log >&2; echo "install-deps: apt-get install failed" >&2; exit 1; }
fi
