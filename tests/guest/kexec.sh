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
#
# With ve.kexec=ride, the same on top of the unmodified KVM (/stock-kvm),
# which virt_enable rides (ride.c): KVM turns the hardware off (6.12: its
# syscore shutdown; 6.1: its reboot notifier) after virt_enable told its
# users, in-kernel ve_testuser among them, which logs what it finds then
# for the host to count (tests/check.sh); on 6.12 with
# kvm.enable_virt_at_load=0, so that what keeps KVM's hardware on for the
# users is a VM virt_enable holds.  ve_probe reads after both hooks.
. /tests/lib.sh
VE_SUITE=kexec
F=$VE_FEATURE
KVM=$(ve_kvm_module)
last=$(ve_online_cpus | tail -n 1)
ride=
[ "$(ve_param ve.kexec)" != ride ] || ride=1

ve_probe_load
if [ -n "$ride" ]; then
	arg=
	! ve_kernel_at_least 6 12 || arg=enable_virt_at_load=0
	ve_check "unmodified $KVM loads" ve_stock_kvm_load $arg
fi
ve_load
ve_check "ve_probe's hooks come after virt_enable's (the probe was loaded first)" ve_probe_first
if [ -n "$ride" ]; then
	modprobe ve_testuser
	ve_check "an in-kernel user takes a system-wide reference" \
		eval 'echo "register ride disabling" >/sys/kernel/debug/ve_testuser/control &&
		      echo "get ride" >/sys/kernel/debug/ve_testuser/control'
	ve_check "virt_enable rides $KVM, holding a VM of KVM's for it" \
		eval 've_same "$(cat /sys/kernel/virt_enable/switcher)" $KVM && ve_same "$(ve_field held_vm)" 1'
	ve_say "kexec: riding $KVM"
fi
ve_check "a debugfs holder takes $F system-wide and on CPU $last" \
	ve_hold "get $F" "get-cpu $F $last"
[ "$(ve_kvm_model)" = none ] || [ -n "$ride" ] ||
	ve_check "KVM, a user, is loaded" modprobe "$KVM"
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
if [ "$(ve_kvm_model)" != none ] || [ -n "$ride" ]; then
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
# (Its "ifdown: socket" complaint would cut into the kernel's last lines,
# which the host reads.)
kexec -e 2>/tmp/kexec.err
ve_not_ok "kexec -e returned: $(cat /tmp/kexec.err)"
