# SPDX-License-Identifier: GPL-2.0
# A crash with VMX/SVM held by virt_enable and by a user with an emergency
# callback (ve_testuser, which logs what the hardware says when it runs):
# the capture kernel (crash-after.sh) must start every CPU it asks for and
# find those log lines, for every CPU, in the first kernel's log.  A second
# hypervisor (ve_hv2) is in the middle of its guests on every CPU when the
# crash comes: its guests exit on NMI and hand it to the host, so the
# crash's NMI still stops every CPU (a guest that kept it would leave its
# CPU in VMX root operation, where Bochs blocks the capture kernel's INIT).
# Where the root has KVM (the first kernel's; the roots of kexec'd
# kernels leave it out), KVM's vCPUs loop on every CPU beside those
# guests: the crash comes in the middle of the side-by-side run.
#
# With ve.crash=ride, the same on top of the unmodified KVM (/stock-kvm),
# which virt_enable rides (ride.c), holding a VM of KVM's (6.12 with
# kvm.enable_virt_at_load=0, and 6.1): the emergency hook is KVM's then,
# so what crash-after.sh checks is what the admin guide promises there:
# every CPU stops and the capture kernel starts them, and users'
# emergency callbacks do not run.
. /tests/lib.sh
VE_SUITE=crash
F=$VE_FEATURE
KVM=$(ve_kvm_module)
TU=/sys/kernel/debug/ve_testuser/control
HV=/sys/kernel/debug/ve_hv2
ncpus=$(ve_online_cpus | wc -l)
want=$((ncpus < 2 ? ncpus : 2))
ride=
[ "$(ve_param ve.crash)" != ride ] || ride=1

ve_probe_load
if [ -n "$ride" ]; then
	arg=
	! ve_kernel_at_least 6 12 || arg=enable_virt_at_load=0
	ve_check "unmodified $KVM loads" ve_stock_kvm_load $arg
fi
ve_load
modprobe ve_testuser
ve_check "a user with an emergency callback takes $F" \
	eval 'echo "register crashtest emergency" >$TU && echo "get crashtest" >$TU'
[ -z "$ride" ] ||
	ve_check "virt_enable rides $KVM, holding a VM of KVM's for it" \
		eval 've_same "$(cat /sys/kernel/virt_enable/switcher)" $KVM && ve_same "$(ve_field held_vm)" 1'
ve_check "a debugfs holder takes $F on CPU $((ncpus - 1))" ve_hold "get-cpu $F $((ncpus - 1))"
ve_check "every CPU on before the crash (hardware)" ve_all_hw 1

capture=/boot/capture.cpio
[ -e $capture ] || { capture=/tmp/capture.cpio; ve_self_cpio $capture; }
cmdline=$(ve_next_cmdline "$(ve_rest_after crash-after)" nr_cpus=$want \
	  "ve.expect_cpus=$want" "ve.first_cpus=$ncpus" reset_devices)
ve_check "kexec -p loads the capture kernel" \
	kexec -s -p /boot/bzImage --initrd=$capture --append="$cmdline"
ve_check "the capture kernel is loaded" ve_same "$(cat /sys/kernel/kexec_crash_loaded)" 1
loops=
if [ -n "$ride" ]; then
	loops=$(ve_online_cpus)
	for cpu in $loops; do ve_loop_start "crash$cpu" "$cpu"; done
	for cpu in $loops; do
		ve_check "a KVM vCPU loops in KVM_RUN on CPU $cpu" ve_loop_wait "crash$cpu" on_cpu 20 60
	done
elif [ "$(ve_kvm_model)" != none ] && [ -x /tests/kvm_guest_test ] &&
   modinfo "$(ve_kvm_module)" >/dev/null 2>&1; then
	loops=$(ve_online_cpus)
	ve_check "KVM, a user, is loaded" modprobe "$(ve_kvm_module)"
	for cpu in $loops; do ve_loop_start "crash$cpu" "$cpu"; done
	for cpu in $loops; do
		ve_check "a KVM vCPU loops in KVM_RUN on CPU $cpu" ve_loop_wait "crash$cpu" on_cpu 20 60
	done
else
	ve_say "# no KVM in this root: ve_hv2's guests alone"
fi
# hv2_busy_cpus: the CPUs where ve_hv2 has run a guest since the reset.
hv2_busy_cpus() { awk '$1 == "cpu" && $4 > 0 { n++ } END { print n + 0 }' $HV/counts; }
ve_check "a second hypervisor (ve_hv2) runs its guests on every CPU, into the crash" \
	eval 'modprobe ve_hv2 && echo get >$HV/control && echo reset >$HV/control &&
	      echo "run-for all 600000" >$HV/control && sleep 1 &&
	      [ "$(hv2_busy_cpus)" = "$ncpus" ]'
for cpu in $loops; do
	ve_check "beside them, the vCPU on CPU $cpu still loops going into the crash (its count grows)" \
		ve_loop_grows "crash$cpu" 30
done
# CPU 0, the boot CPU, crashes: the capture kernel starts on it.
ve_say "crash: triggering a crash on CPU 0"
echo 0 >/proc/sys/kernel/panic_on_warn
taskset 1 sh -c 'echo c >/proc/sysrq-trigger'
ve_not_ok "the crash did not happen"
