# SPDX-License-Identifier: GPL-2.0
# In the kernel kexec.sh started: every CPU of the first kernel came up;
# the first kernel's shutdown turned every CPU off itself, as ve_probe read
# it there (see kexec.sh); and on SVM, this boot CPU's EFER shows it too.
. /tests/lib.sh
VE_SUITE=kexec
F=$VE_FEATURE
expect=$(ve_param ve.expect_cpus)
# Who turned the hardware off in the first kernel: virt_enable, or the
# unmodified KVM it rode (ve.kexec=ride, see kexec.sh).
off_by="virt_enable's shutdown hook"
[ "$(ve_param ve.kexec)" != ride ] || off_by="the shutdown hooks of virt_enable and $(ve_kvm_module) (ridden)"

# First, before anything is loaded: the boot CPU's EFER.SVME.  This kernel's
# boot CPU is the CPU that ran kexec in the first kernel, and it keeps that
# CPU's EFER: the startup code sets bits in the value it reads (LME, SCE,
# NX) and never clears SVME.  Outside KVM, nothing in the kernel clears
# EFER.SVME (every other EFER write in arch/x86 sets bits the same way,
# copies the boot CPU's EFER into the APs' trampoline, or restores a
# value saved for resume), and neither KVM (not in this initramfs) nor
# virt_enable is loaded before this read.  On this path nothing but
# virt_enable's shutdown (riding: KVM's) clears SVME on that CPU (6.12:
# syscore shutdown; 6.1: the reboot notifier; the kernel's stop path
# disables virtualization on the other CPUs only), and QEMU does not block
# INIT with SVME set, so this is the check that can fail when it does not.
[ "$F" != svm ] || boot_svme=$(ve_hw 0)

ve_check "the kexec'd kernel runs" true
ve_check "it brought up all $expect CPUs" ve_same "$(ve_online_cpus | wc -l)" "$expect"
ve_check "no CPU failed to come up" ve_not ve_dmesg_has 'failed to report alive state\|failed to come online'
[ "$F" != svm ] ||
	ve_check "the boot CPU, which ran kexec, came up with EFER.SVME clear: $off_by turned SVM off there" \
		ve_same "$boot_svme" 0

# What the first kernel's ve_probe read right after virt_enable's shutdown
# hook, before the kernel stopped the other CPUs (left in CMOS RAM).
ve_probe_load
if ve_kernel_at_least 6 7; then hook=syscore-shutdown; else hook=reboot-notifier; fi
read_mask=$(ve_probe_field previous read)
on_mask=$(ve_probe_field previous on)
ve_say "# first kernel's ve_probe: $(ve_probe_hooks previous)"
ve_check "the first kernel's ve_probe read the hardware after $off_by ($hook)" \
	ve_same "$(ve_probe_hooks previous | cut -d' ' -f2)" "$hook"
ve_check "...on all $expect CPUs" ve_same "$((${read_mask:-0}))" "$(((1 << expect) - 1))"
cpu=0
while [ "$cpu" -lt "$expect" ]; do
	ve_check "first kernel, CPU $cpu: $F off after $off_by, before the kernel stopped the CPUs (hardware)" \
		eval '[ -n "$on_mask" ] && ! ve_mask_has "$on_mask" "$cpu"'
	cpu=$((cpu + 1))
done
