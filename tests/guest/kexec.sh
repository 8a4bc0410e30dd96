# SPDX-License-Identifier: GPL-2.0
# kexec with VMX/SVM held: a debugfs holder, a per-CPU holder on the last
# CPU, and KVM where it uses virt_enable; syscore shutdown must turn the
# hardware off everywhere (ve_probe logs what it reads then), or INIT,
# blocked in VMX root operation, keeps the next kernel from starting CPUs.
# The next kernel reports in kexec-after.sh.
#
# That the next kernel starts every CPU does not show that virt_enable's
# shutdown turned them off: before the jump, the kernel stops the other
# CPUs, and its stop path runs the emergency virtualization callback on
# each of them.  So ve_probe, loaded before virt_enable, reads every CPU
# right after virt_enable's shutdown hook (6.12: syscore shutdown, which
# kexec reaches since 6.7; 6.1: the reboot notifier) and leaves what it
# read in CMOS RAM for the next kernel to check.
#
# Where KVM uses virt_enable, a vCPU loops inside KVM_RUN on CPU 0 (the CPU
# the kernel migrates kexec to) and on the last CPU until the jump: its
# count must still grow right before `kexec -e`, so the hardware goes off
# under running vCPUs.  KVM must then eat the faults of the vCPUs' next
# VMRESUME/VMRUN (kvm_rebooting), which ve_probe's shutdown reading gives
# them 100 ms to make; a splat fails the host's log check, and a CPU left
# in VMX root operation the next kernel's checks.
. /tests/lib.sh
VE_SUITE=kexec
F=$VE_FEATURE
last=$(ve_online_cpus | tail -n 1)

ve_probe_load
ve_load
ve_check "ve_probe's hooks come after virt_enable's (the probe was loaded first)" ve_probe_first
ve_check "a debugfs holder takes $F system-wide and on CPU $last" \
	ve_hold "get $F" "get-cpu $F $last"
[ "$(ve_kvm_model)" = none ] || ve_check "KVM, a user, is loaded" modprobe "$(ve_kvm_module)"
ve_check "every CPU on before kexec (hardware)" ve_all_hw 1

# The small initramfs the next kernels get; from the chain itself, this one.
next=/boot/chain.cpio
[ -e $next ] || { next=/tmp/next.cpio; ve_self_cpio $next; }
cmdline=$(ve_next_cmdline "$(ve_rest_after kexec-after)" \
	  "ve.expect_cpus=$(ve_online_cpus | wc -l)" crashkernel=96M)
ve_check "kexec loads this kernel again (kexec_file_load)" \
	kexec -s -l /boot/bzImage --initrd=$next --append="$cmdline"
# The vCPUs start once the image is loaded: in Bochs, with looping vCPUs
# on both CPUs, kexec_file_load had not returned after 13 minutes.
loops=
if [ "$(ve_kvm_model)" != none ]; then
	loops=$(printf '%s\n' 0 "$last" | sort -u)
	for cpu in $loops; do ve_loop_start "kexec$cpu" "$cpu"; done
	for cpu in $loops; do
		ve_check "a vCPU loops in KVM_RUN on CPU $cpu" ve_loop_wait "kexec$cpu" on_cpu 20 60
	done
fi
for cpu in $loops; do
	ve_check "the vCPU on CPU $cpu still loops going into kexec -e (its count grows)" \
		ve_loop_grows "kexec$cpu" 30
	ve_say "# the vCPU on CPU $cpu going into kexec -e: $(ve_loop_status "kexec$cpu")"
done
ve_say "kexec: executing"
kexec -e
ve_not_ok "kexec -e returned"
