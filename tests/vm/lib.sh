# SPDX-License-Identifier: GPL-2.0
# Shared settings for the VM harness; sourced, not run.

VE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VE_CACHE=${VE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virt_enable}
# Its real path: kernel build trees record absolute paths, and a cache
# reached through a symbolic link must not look like another one.
VE_CACHE=$(realpath -m "$VE_CACHE")
VE_JOBS=${VE_JOBS:-$(nproc)}

ve_log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
ve_die() { ve_log "error: $*"; exit 1; }

# ve_update SRC DST: copy SRC over DST only if they differ, so an unchanged
# file keeps its mtime and make rebuilds nothing for it.
ve_update() { cmp -s "$1" "$2" || cp "$1" "$2"; }

# ve_pkg_version PACKAGE: the installed Debian version of PACKAGE.
ve_pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null; }

# ve_qemu_tcg SUITES: how QEMU runs a guest of these (comma-separated)
# suites, for boot.sh --tcg.  QEMU 7.2's multi-threaded TCG now and then
# hands the nested SVM guest of a KVM vCPU on CPU 0 the host's own state
# (its VMCB then holds what VMRUN saved for the host: guest RIP = the host
# instruction after VMRUN), with unmodified KVM too, and never did so
# single-threaded (README, "QEMU's TCG and KVM's guests").  So a guest
# whose suites run KVM guests runs single-threaded, the others (the
# stress suite's) multi-threaded, every vCPU really in parallel.
ve_qemu_tcg() {
	case ,$1, in
	*,kvm,* | *,kvmlife,* | *,kvmselftests,* | *,sharing,* | *,kexec,* | *,crash,* | *,shutdown,*)
		echo single ;;
	*) echo multi ;;
	esac
}

# ve_guest_tap LOG NAME: the results a guest's suites wrote to its serial
# LOG ("VE: ok N - ...", "VE: not ok N - ...", "VE: # ..."), as the
# "PASS: NAME: ...", "FAIL: ...", "SKIP: ..." lines the host counts, with
# the comments indented; the serial line's carriage returns dropped.
ve_guest_tap() {
	local line
	while read -r line; do
		case $line in
		"ok "*" # SKIP"*) echo "SKIP: $2: ${line#ok * - }" ;;
		"ok "*) echo "PASS: $2: ${line#ok * - }" ;;
		"not ok "*) echo "FAIL: $2: ${line#not ok * - }" ;;
		"# "*) echo "      $line" ;;
		esac
	done < <(sed -n 's/\r$//; s/.*VE: \(\(not \)\?ok .*\|# .*\)$/\1/p' "$1")
}
