# SPDX-License-Identifier: GPL-2.0
# Runs last: leaves a reference held going into the end of the guest,
# `poweroff -f`, or `reboot -f` with ve.end=reboot on the command line
# (tests/guest/init), which must turn $VE_FEATURE off on every CPU through
# syscore shutdown: the host checks ve_probe's reading of each CPU after it
# ("ve_probe: shutdown: cpu N svm off") and the kernel's own last line.
#
# Where KVM uses virt_enable, a vCPU loops inside KVM_RUN on CPU 0 (the
# CPU the kernel migrates the reboot to) and on the last CPU into the end,
# its count seen growing last thing here: KVM's syscore shutdown sets
# kvm_rebooting and puts its references, virt_enable's turns the hardware
# off under the running vCPUs, whose next VMRESUME/VMRUN faults (ve_probe's
# shutdown reading gives them 100 ms to get there); a splat fails the host's
# log check.
. /tests/lib.sh
VE_SUITE=shutdown
F=$VE_FEATURE
last=$(ve_online_cpus | tail -n 1)
end=$(ve_end)

ve_probe_load
ve_load
loops=
if [ "$(ve_kvm_model)" != none ]; then
	ve_check "KVM, a user, is loaded" modprobe "$(ve_kvm_module)"
	loops=$(printf '%s\n' 0 "$last" | sort -u)
	for cpu in $loops; do ve_loop_start "end$cpu" "$cpu"; done
	for cpu in $loops; do
		ve_check "a vCPU loops in KVM_RUN on CPU $cpu" ve_loop_wait "end$cpu" on_cpu 20 60
	done
fi
# A holder that outlives this script.
sh -c "exec 3>$VE_CTL; echo 'get $F' >&3 && touch /tmp/held; exec sleep 100000" &
for i in $(seq 50); do [ -e /tmp/held ] && break; sleep 0.1; done
ve_check "a reference is held going into $end" ve_all_hw 1
for cpu in $loops; do
	ve_check "the vCPU on CPU $cpu still loops going into $end (its count grows)" \
		ve_loop_grows "end$cpu" 30
	ve_say "# the vCPU on CPU $cpu going into $end: $(ve_loop_status "end$cpu")"
done
