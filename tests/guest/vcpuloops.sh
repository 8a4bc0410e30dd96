# SPDX-License-Identifier: GPL-2.0
# In no guest of make check: the reproducer of QEMU 7.2's multi-threaded
# TCG defect that tests/vm/lib.sh's ve_qemu_tcg works around (README,
# "QEMU's TCG and KVM's guests"), run by tests/vm/vcpu0-repro.sh.  A vCPU
# loops on every CPU while rounds of CPU 1 offline/online, a suspend
# (pm_test=core), a debugfs get/put and an idle second follow one another;
# after each, every vCPU's count of exits must grow.  A loop that stops is
# said with KVM's exits (ve_loop_stalled).  With ve.vcpuloops=stock the
# unmodified KVM (the harness's /stock-kvm) runs the vCPUs, and the
# debugfs round does nothing.
. /tests/lib.sh
VE_SUITE=vcpuloops
F=$VE_FEATURE
stock=$([ "$(ve_param ve.vcpuloops)" = stock ] && echo 1)
ve_load
if [ -n "$stock" ]; then
	ve_check "the unmodified KVM loads" ve_stock_kvm_load
else
	ve_check "KVM loads" modprobe "$(ve_kvm_module)"
fi
cpus=$(ve_online_cpus)
for cpu in $cpus; do ve_loop_start "r$cpu" "$cpu"; done
for cpu in $cpus; do ve_check "a vCPU loops on CPU $cpu" ve_loop_wait "r$cpu" on_cpu 20 60; done
for round in $(seq 1 24); do
	case $((round % 4)) in
	0) what=suspend; ve_suspend ;;
	1) what=hotplug; ve_set_online 1 0; sleep 0.5; ve_set_online 1 1 ;;
	2) what=getput
	   [ -n "$stock" ] || sh -c "exec 3>$VE_CTL; echo 'get $F' >&3; sleep 0.3; echo 'put $F' >&3" ;;
	3) what=idle; sleep 1 ;;
	esac
	for cpu in $cpus; do
		ve_check "round $round ($what): the vCPU on CPU $cpu still loops" ve_loop_grows "r$cpu" 15
	done
done
for cpu in $cpus; do ve_check "the vCPU on CPU $cpu stops" ve_loop_stop "r$cpu"; done
