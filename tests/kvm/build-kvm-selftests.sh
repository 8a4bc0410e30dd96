#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kvm-selftests.sh SRC_TREE OUT_DIR
#
# Build the kernel's own KVM selftests named in selftests.list (beside this
# script) from the kernel source tree SRC_TREE, as static binaries, and put
# them in OUT_DIR (x86_64/ kept in their names, debug info stripped) with
# run-kvm-selftests.sh and the list that run uses.
#
# SRC_TREE is only read: its uapi headers go to a scratch object tree
# (`make O=... headers`) and the selftests' objects to OUTPUT=..., both
# under ${KVM_SELFTESTS_WORK:-/var/tmp/kvmtest}/<tree name>.  JOBS (default
# 2) is the make -j.  Exit status 0 only if every listed test that exists in
# SRC_TREE was built, and built static.
set -euo pipefail

die() {
	echo "build-kvm-selftests: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: build-kvm-selftests.sh SRC_TREE OUT_DIR"
here=$(cd "$(dirname "$0")" && pwd)
src=$(realpath "$1")
out=$2
kdir=$src/tools/testing/selftests/kvm
list=$here/selftests.list
jobs=${JOBS:-2}
[ -f "$kdir/Makefile" ] || die "$src has no tools/testing/selftests/kvm"
[ -f "$list" ] || die "no $list"

work=${KVM_SELFTESTS_WORK:-/var/tmp/kvmtest}/$(basename "$src")
hdr=$work/hdr
build=$work/build
mkdir -p "$hdr" "$build" "$out"
start=$(date +%s)

# The uapi headers of this tree, exported (unifdef'ed, __KERNEL__ parts
# dropped) into the object tree's usr/include, as headers_install would.
echo "build-kvm-selftests: uapi headers of $src"
make -s -C "$src" O="$hdr" ARCH=x86_64 -j"$jobs" headers >"$work/headers.log" 2>&1 ||
	die "make headers failed, see $work/headers.log"
khdr=$hdr/usr/include
[ -f "$khdr/linux/kvm.h" ] || die "no linux/kvm.h in $khdr"

# The listed tests this tree has.
names=() targets=() absent=()
while IFS=$'\t' read -r name _; do
	case $name in '#'* | '') continue ;; esac
	if [ -f "$kdir/$name.c" ]; then
		names+=("$name")
		targets+=("$build/$name")
	else
		absent+=("$name")
	fi
done <"$list"
[ ${#names[@]} -gt 0 ] || die "no listed test exists in $kdir"

# -static goes in through EXTRA_CFLAGS, which the selftests' Makefile puts
# on both the compile and the link lines; -k builds what can be built.
# TMPOUT moves try-run's scratch directory out of the source tree.
echo "build-kvm-selftests: ${#names[@]} tests into $build"
status=0
make -C "$kdir" -k -j"$jobs" OUTPUT="$build" KHDR_INCLUDES="-isystem $khdr" \
	EXTRA_CFLAGS=-static TMPOUT="$work/try-run" "${targets[@]}" \
	>"$work/build.log" 2>&1 || status=$?
grep -E 'warning:|error:' "$work/build.log" | sort -u | sed 's/^/  /' || true

failed=()
for name in "${names[@]}"; do
	bin=$build/$name
	if [ ! -x "$bin" ]; then
		failed+=("$name (did not build)")
	elif readelf -lW "$bin" | grep -q 'program interpreter'; then
		failed+=("$name (not static)")
	else
		mkdir -p "$out/$(dirname "$name")"
		strip --strip-debug -o "$out/$name" "$bin"
	fi
done

# The list the guest runs: this one, less what this tree lacks.
{
	awk -F'\t' -v absent=" ${absent[*]-} " \
		'!/^#/ && NF && index(absent, " " $1 " ") { next } { print }' "$list"
	for name in ${absent[@]+"${absent[@]}"}; do
		echo "# excluded $name: not in $(basename "$src")"
	done
} >"$out/selftests.list"
cp "$here/run-kvm-selftests.sh" "$out/"

echo "build-kvm-selftests: $((${#names[@]} - ${#failed[@]})) of ${#names[@]} built in" \
	"$(($(date +%s) - start)) s, $(du -sh "$out" | cut -f1) in $out"
for name in ${absent[@]+"${absent[@]}"}; do
	echo "  not in this tree: $name"
done
for name in ${failed[@]+"${failed[@]}"}; do
	echo "  FAILED: $name"
done
if [ ${#failed[@]} -gt 0 ]; then
	[ $status -eq 0 ] || echo "  make exited $status, see $work/build.log"
	exit 1
fi
