# SPDX-License-Identifier: GPL-2.0
# virt_enable built into the kernel (CONFIG_VIRT_ENABLE=y): present from
# boot, never unloaded, and the same rules as the module.
#
# Booted with virt_enable.tdx=on on a machine without TDX, its
# initialization fails at boot, and its exported functions stay: then
# every user is refused, the patched KVM included, and nothing turns on.
. /tests/lib.sh
VE_SUITE=builtin
F=$VE_FEATURE
KVM=$(ve_kvm_module)
TU=/sys/kernel/debug/ve_testuser/control

ve_probe_load
if [ "$(ve_param virt_enable.tdx)" = on ]; then
	ve_check "initialization failed at boot, saying why" eval \
		've_dmesg_has "virt_enable: TDX: tdx=on, but" && ve_dmesg_has "virt_enable: not started: -"'
	ve_check "no debugfs, no sysfs" eval '[ ! -e $VE_DIR ] && [ ! -e /sys/kernel/virt_enable ]'
	ve_mark
	ve_check "the patched $KVM refuses to load" ve_not modprobe "$KVM" 2>/dev/null
	ve_check "...saying that virt_enable does not run" \
		eval 've_since_mark | grep -qE "kvm(_amd|_intel)?: .*virt_enable"'
	ve_check "...and is not loaded" [ ! -e /sys/module/"$KVM" ]
	modprobe ve_testuser
	exec 3>$TU
	ve_check "another in-kernel user's registration fails with ENODEV" \
		ve_cmd_fails 3 "register other" "No such device"
	exec 3>&-
	ve_check "nothing on (hardware)" ve_all_hw 0
	ve_check "CPU 1 offline and online: still nothing on (hardware)" \
		eval 've_set_online 1 0 && ve_set_online 1 1 && ve_all_hw 0'
	rmmod ve_testuser
	exit 0
fi
ve_check "debugfs is there from boot, nothing loaded" [ -r $VE_STATE ]
ve_check "built in, not a loadable module" [ ! -e /sys/module/virt_enable/initstate ]
ve_check "state names feature $F" ve_same "$(ve_field feature)" "$F"
ve_check "nothing on after boot (hardware)" ve_all_hw 0

exec 3>$VE_CTL
ve_check "get succeeds" ve_cmd 3 "get $F"
ve_check "every online CPU on (hardware)" ve_all_hw 1
ve_check "CPU 1 offline and online while held" \
	eval 've_set_online 1 0 && ve_set_online 1 1'
ve_check "CPU 1 on again (hardware)" ve_same "$(ve_hw 1)" 1
ve_check "suspend/resume while held" ve_suspend
ve_check "every online CPU on after resume (hardware)" ve_all_hw 1
ve_check "unmodified $KVM load refused while held" ve_not ve_stock_kvm_load 2>/dev/null
exec 3>&-
ve_check "closing the holder turns every CPU off (hardware)" ve_all_hw 0

# The KVM check a built-in virt_enable makes goes through the module kset.
ve_check "unmodified $KVM loads once idle" ve_stock_kvm_load
exec 3>$VE_CTL
ve_check "get succeeds while unmodified $KVM is loaded" ve_cmd 3 "get $F"
ve_check "built in, virt_enable rides $KVM" ve_same "$(ve_field switcher)" "$KVM"
ve_check "every online CPU on (hardware)" ve_all_hw 1
exec 3>&-
ve_check "$KVM unloads once the reference is gone" ve_stock_kvm_unload
ve_check "get succeeds once $KVM is gone, switched by virt_enable" \
	eval 'exec 3>$VE_CTL && ve_cmd 3 "get $F" && [ "$(ve_field switcher)" = virt_enable ]'
exec 3>&-
ve_check "nothing left on (hardware)" ve_all_hw 0
