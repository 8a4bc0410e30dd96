# SPDX-License-Identifier: GPL-2.0
# TDX on a kernel with TDX host support (CONFIG_INTEL_TDX_HOST), in an
# emulator without TDX: one clear line, no user, nothing on; tdx=on fails
# the load and says why; tdx=off says that.
. /tests/lib.sh
VE_SUITE=tdx
F=$VE_FEATURE

ve_probe_load
ve_mark
ve_check "the module loads" modprobe virt_enable
ve_check "one line says there is no TDX platform, naming the firmware" \
	ve_same "$(ve_since_mark | grep -c 'virt_enable: TDX: no TDX platform: the firmware offers no TDX module')" 1
ve_check "no user, no reference" ve_same "$(ve_field users) $(ve_field tdx)" "0 inactive"
ve_check "nothing on (hardware), no VMXON region" \
	eval 've_all_hw 0 && [ "$(ve_field vmxon_regions)" = 0 ]'
ve_check "the tdx parameter reads auto" ve_same "$(cat /sys/module/virt_enable/parameters/tdx)" auto
rmmod virt_enable
ve_mark
ve_check "with tdx=on the load fails" ve_not modprobe virt_enable tdx=on 2>/dev/null
ve_check "...saying why" ve_since_mark_has 'virt_enable: TDX: tdx=on, but no TDX platform'
ve_check "...and leaves nothing behind" \
	eval '[ ! -e /sys/module/virt_enable ] && [ ! -e /sys/kernel/virt_enable ] && ve_all_hw 0'
ve_mark
ve_check "with tdx=off it loads and says so" \
	eval 'modprobe virt_enable tdx=off && ve_since_mark_has "virt_enable: TDX: not brought up (tdx=off)"'
ve_check "a bad tdx= value fails the load" \
	eval 'rmmod virt_enable && ! modprobe virt_enable tdx=maybe 2>/dev/null'
