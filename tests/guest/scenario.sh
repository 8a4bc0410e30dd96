# SPDX-License-Identifier: GPL-2.0
# The end-to-end scenario, run in a guest whose CPU offers $VE_FEATURE.
# Hardware state is checked independently of the module's bookkeeping (see
# ve_hw in lib.sh) wherever it can be.
. /tests/lib.sh
VE_SUITE=scenario
F=$VE_FEATURE
W=$(ve_other_feature)
KVM=$(ve_kvm_module)

ve_probe_load

# --- load ---
tdx_lines=$(dmesg | grep 'virt_enable: TDX: ')
ve_check "module loads" modprobe virt_enable
ve_check "state names feature $F" ve_same "$(ve_field feature)" "$F"
ve_check "after load: no CPU on (state)" ve_all_state_hw 0
ve_check "after load: no CPU on (hardware)" ve_all_hw 0
if [ "$F" = vmx ]; then
	ve_check "after load: no VMXON region allocated" ve_same "$(ve_field vmxon_regions)" 0
	# Earlier lines (the KUnit suite's fakes) are left out of the count.
	new_tdx_lines=$(dmesg | grep 'virt_enable: TDX: ' | tail -n +$(($(echo "$tdx_lines" | grep -c .) + 1)))
	ve_check "after load: one line in dmesg says there is no TDX platform" \
		eval '[ "$(echo "$new_tdx_lines" | grep -c .)" = 1 ] &&
		      echo "$new_tdx_lines" | grep -q "virt_enable: TDX: no TDX platform"'
fi
ve_check "after load: TDX holds nothing" ve_same "$(ve_field tdx)" inactive

# --- first and second reference ---
exec 3>$VE_CTL
ve_check "first get succeeds" ve_cmd 3 "get $F"
ve_check "first get: every online CPU on (hardware)" ve_all_hw 1
ve_check "first get: every online CPU on (state)" ve_all_state_hw 1
ve_check "first get: one broadcast" ve_same "$(ve_counter broadcasts)" 1
if [ "$F" = vmx ]; then
	ve_check "first get: one VMXON region per online CPU" \
		ve_same "$(ve_field vmxon_regions)" "$(ve_online_cpus | wc -l)"
fi
for cpu in $(ve_online_cpus); do
	ve_check "first get: CPU $cpu enabled once" ve_cpu_counts "$cpu" 1 0
done
before=$(ve_transitions)
exec 4>$VE_CTL
ve_check "second user's get succeeds" ve_cmd 4 "get $F"
ve_check "second user: no hardware transition, no broadcast" \
	ve_same "$(ve_transitions)" "$before"
ve_check "state lists both users" ve_same "$(ve_users)" 2
ve_check "state counts one system-wide holder each" \
	ve_same "$(grep -c '^user "debugfs:pid [0-9]* #[0-9]*" system 1 permanent 0 percpu$' $VE_STATE)" 2
ve_check "one process, two files: two names" \
	ve_same "$(grep '^user ' $VE_STATE | cut -d'"' -f2 | sort -u | wc -l)" 2

# --- wrong feature ---
before=$(cat $VE_STATE)
ve_check "get of $W fails with EOPNOTSUPP" ve_cmd_fails 4 "get $W" "Operation not supported"
ve_check "wrong-feature get changes nothing" ve_same "$(cat $VE_STATE)" "$before"

# --- hotplug while held ---
ve_check "CPU 1 goes offline while held" ve_set_online 1 0
ve_check "offline CPU 1 shows off" ve_same "$(ve_cpu_field 1 online) $(ve_cpu_field 1 hw)" "0 0"
ve_check "CPU 1 comes back online" ve_set_online 1 1
ve_check "CPU 1 on again after online (hardware)" ve_same "$(ve_hw 1)" 1
ve_check "CPU 1 counted 2 enables, 1 disable" ve_cpu_counts 1 2 1

# --- suspend while held ---
ve_check "suspend/resume (pm_test=core) while held" ve_suspend
ve_check "after resume: every online CPU on (hardware)" ve_all_hw 1
ve_check "CPU 0 went off and on through syscore" ve_cpu_counts 0 2 1

# --- last put ---
exec 3>&- 4>&-
ve_check "closing the holders turns every CPU off (hardware)" ve_all_hw 0
ve_check "closing the holders turns every CPU off (state)" ve_all_state_hw 0
ve_check "no users left" ve_same "$(ve_field users)" 0
if [ "$F" = vmx ]; then
	ve_check "last user gone: VMXON regions freed" ve_same "$(ve_field vmxon_regions)" 0
fi
ve_check "CPU 1 offline with nothing held" ve_set_online 1 0
ve_check "CPU 1 online with nothing held" ve_set_online 1 1
ve_check "CPU 1 stays off (hardware)" ve_same "$(ve_hw 1)" 0
ve_check "CPU 1 stays off (state)" ve_same "$(ve_cpu_field 1 hw)" 0

# --- explicit put, then an extra one ---
exec 3>$VE_CTL
ve_cmd 3 "get $F"
ve_check "explicit put succeeds" ve_cmd 3 "put $F"
ve_check "explicit put turns every CPU off (hardware)" ve_all_hw 0
before=$(cat $VE_STATE)
ve_check "extra put refused with EINVAL" ve_cmd_fails 3 "put $F" "Invalid argument"
ve_check "extra put changes nothing" ve_same "$(cat $VE_STATE)" "$before"
exec 3>&-

# --- permanent reference ---
exec 3>$VE_CTL
ve_check "permanent get succeeds" ve_cmd 3 "get-permanent $F"
ve_check "put of a permanent reference refused with EPERM" \
	ve_cmd_fails 3 "put $F" "Operation not permitted"
ve_check "permanent reference still holds every CPU (hardware)" ve_all_hw 1
exec 3>&-
ve_check "closing its file ends the permanent reference (hardware)" ve_all_hw 0

# --- per-CPU reference ---
exec 3>$VE_CTL
ve_check "per-CPU get on CPU 1 succeeds" ve_cmd 3 "get-cpu $F 1"
ve_check "only CPU 1 on (hardware)" \
	ve_same "$(ve_hw_map)" "$(for c in $(ve_online_cpus); do [ "$c" = 1 ] && echo 1 || echo 0; done | tr -d '\n')"
ve_check "per-CPU put on CPU 1 succeeds" ve_cmd 3 "put-cpu $F 1"
ve_check "CPU 1 off after per-CPU put (hardware)" ve_same "$(ve_hw 1)" 0
exec 3>&-

# --- a holder that dies ---
rm -f /tmp/ready
sh -c "exec 3>$VE_CTL; echo 'get $F' >&3 && touch /tmp/ready; exec sleep 1000" &
holder=$!
for i in $(seq 50); do [ -e /tmp/ready ] && break; sleep 0.1; done
ve_check "a background holder's reference is visible" ve_all_hw 1
ve_check "the holder is listed by pid" grep -q "^user \"debugfs:pid $holder #[0-9]*\" system 1" $VE_STATE
kill -9 $holder
wait $holder 2>/dev/null
ve_check "SIGKILL of the holder drops its reference (hardware)" ve_all_hw 0
ve_check "SIGKILL of the holder drops its user" ve_same "$(ve_field users)" 0

# --- unload ---
exec 3>$VE_CTL
ve_cmd 3 "get $F"
ve_check "unload refused while a reference is held" ve_not rmmod virt_enable 2>/dev/null
ve_check "still loaded and on after the refused unload" ve_all_hw 1
exec 3>&-
ve_check "unload succeeds once free" rmmod virt_enable
ve_check "no CPU left on after unload (hardware)" ve_all_hw 0

# --- unmodified KVM loaded first: virt_enable rides it (ridealong.sh) ---
ve_check "unmodified $KVM loads" ve_stock_kvm_load
modprobe virt_enable
exec 3>$VE_CTL
ve_check "get succeeds while $KVM is loaded" ve_cmd 3 "get $F"
ve_check "virt_enable says it rides $KVM" ve_dmesg_has "riding $KVM"
ve_check "$F on on every CPU (hardware)" ve_all_hw 1
exec 3>&-
ve_check "$KVM unloads once the reference is gone" ve_stock_kvm_unload
ve_check "$KVM gone, $F off (hardware)" ve_all_hw 0

# --- virt_enable first, then unmodified KVM ---
exec 3>$VE_CTL
ve_check "get succeeds once $KVM is gone" ve_cmd 3 "get $F"
ve_check "unmodified $KVM load refused while virt_enable holds $F" \
	ve_not ve_stock_kvm_load 2>/dev/null
ve_check "the refusal is explained in dmesg" ve_dmesg_has "refusing to load $KVM"
ve_check "refused $KVM load changes nothing of ours (hardware)" ve_all_hw 1
exec 3>&-
ve_check "unmodified $KVM loads once virt_enable is idle" ve_stock_kvm_load
ve_stock_kvm_unload
ve_check "final unload" rmmod virt_enable
ve_check "nothing left on (hardware)" ve_all_hw 0

