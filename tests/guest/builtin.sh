# SPDX-License-Identifier: GPL-2.0
# virt_enable built into the kernel (CONFIG_VIRT_ENABLE=y): present from
# boot, never unloaded, and the same rules as the module.
. /tests/lib.sh
VE_SUITE=builtin
F=$VE_FEATURE
KVM=$(ve_kvm_module)

ve_probe_load
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
ve_check "get fails with EBUSY while unmodified $KVM is loaded" \
	ve_cmd_fails 3 "get $F" "Device or resource busy"
exec 3>&-
ve_stock_kvm_unload
ve_check "get succeeds once $KVM is gone" eval 'exec 3>$VE_CTL && ve_cmd 3 "get $F"'
exec 3>&-
ve_check "nothing left on (hardware)" ve_all_hw 0
