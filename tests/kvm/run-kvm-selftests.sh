#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run-kvm-selftests.sh DIR [NAME...]
#
# Run, in the guest (busybox sh), the KVM selftests that
# build-kvm-selftests.sh put in DIR: those named, or every test DIR's
# selftests.list includes, less those it excludes for the feature named by
# KVM_SELFTEST_FEATURE ("# excluded-vmx NAME: reason" lines: too slow in
# Bochs, the only VMX emulator here).  Each runs under `timeout` (KVM_SELFTEST_TIMEOUT
# seconds, default 120) with its TAP output in /tmp/kvm-selftests/NAME.log,
# and gets one line:
#
#	kvm-selftest NAME pass|fail|skip
#
# by its exit status: 0 pass, 4 (KSFT_SKIP) skip, anything else fail.
# KVM_SELFTEST_SUBSET=ci runs only the tests of the list's "# ci-FEATURE
# NAME: reason" lines (make check's short run in Bochs; make check-full
# runs them all).  The first line says how many tests were selected:
#
#	kvm-selftests selected N
# After it comes a "# NAME: ..." comment with the time taken (and the skip
# reason, or the whole log of a failure).  Exit status 0 only if no test
# failed.
dir=${1:?usage: run-kvm-selftests.sh DIR [NAME...]}
shift
limit=${KVM_SELFTEST_TIMEOUT:-120}
logs=/tmp/kvm-selftests
mkdir -p "$logs"

if [ $# -eq 0 ]; then
	[ -f "$dir/selftests.list" ] || {
		echo "run-kvm-selftests: no $dir/selftests.list" >&2
		exit 1
	}
	# shellcheck disable=SC2046 # test names have no blanks
	set -- $(sed -n 's/^\([^#][^	]*\)	.*/\1/p' "$dir/selftests.list")
	if [ "${KVM_SELFTEST_SUBSET:-}" = ci ]; then
		# shellcheck disable=SC2046 # test names have no blanks
		set -- $(sed -n "s/^# ci-${KVM_SELFTEST_FEATURE:-none} \([^:]*\):.*/\1/p" \
			 "$dir/selftests.list")
	elif [ -n "${KVM_SELFTEST_FEATURE:-}" ]; then
		skipped=" $(sed -n "s/^# excluded-$KVM_SELFTEST_FEATURE \([^:]*\):.*/\1/p" \
			    "$dir/selftests.list" | tr '\n' ' ')"
		for name; do
			shift
			case $skipped in *" $name "*) ;; *) set -- "$@" "$name" ;; esac
		done
	fi
fi

echo "kvm-selftests selected $#"
pass=0 fail=0 skip=0
for name; do
	log=$logs/$(echo "$name" | tr / _).log
	start=$(date +%s)
	if [ -x "$dir/$name" ]; then
		timeout "$limit" "$dir/$name" >"$log" 2>&1 </dev/null
		rc=$?
	else
		echo "no executable $dir/$name" >"$log"
		rc=127
	fi
	secs=$(($(date +%s) - start))
	case $rc in
	0) result=pass pass=$((pass + 1)) ;;
	4) result=skip skip=$((skip + 1)) ;;
	*) result=fail fail=$((fail + 1)) ;;
	esac
	echo "kvm-selftest $name $result"
	case $result in
	pass)
		echo "# $name: ${secs}s"
		;;
	fail)
		[ $rc -eq 143 ] && echo "# $name: killed after ${limit}s (timeout)"
		echo "# $name: exit status $rc after ${secs}s, log $log:"
		sed 's/^/#   /' "$log"
		;;
	skip)
		# The reason is the last line the test printed.
		echo "# $name: ${secs}s: $(tail -n 1 "$log")"
		;;
	esac
done
echo "# kvm-selftests: $pass pass, $fail fail, $skip skip"
[ $fail -eq 0 ]
