# SPDX-License-Identifier: GPL-2.0
# KVM as a virt_enable user, on a kernel with the KVM series (ve.kvm=system
# for 6.12, percpu for 6.1): its reference, real guests on every CPU,
# sharing with another user, CPU hotplug, suspend and enable_virt_at_load.
. /tests/lib.sh
VE_SUITE=kvm
F=$VE_FEATURE
KVM=$(ve_kvm_module)
MODEL=$(ve_kvm_model)
GUEST=/tests/kvm_guest_test

kvm_user() { ve_user_line "$KVM\""; }
kvm_holds_system() { kvm_user | grep -q " system 1 permanent 0 percpu$"; }
kvm_holds_nothing() { kvm_user | grep -q " system 0 permanent 0 percpu$"; }
# Per-CPU references of KVM on every online CPU, as 6.1 takes them per VM.
kvm_holds_every_cpu() {
	for cpu in $(ve_online_cpus); do
		kvm_user | grep -q " $cpu:1\( \|$\)" || return 1
	done
}
# While a VM exists: what the series takes then.
kvm_holds_for_vm() {
	case $MODEL in
	system) kvm_holds_system ;;
	percpu) kvm_holds_every_cpu ;;
	esac
}

ve_probe_load
ve_load

# --- load: one user, one reference, one broadcast ---
before=$(ve_counter broadcasts)
for cpu in $(ve_online_cpus); do eval "enables_$cpu=$(ve_cpu_field "$cpu" enables)"; done
ve_check "modprobe $KVM (patched) loads" modprobe "$KVM"
ve_check "state lists the $KVM user" eval 'kvm_user >/dev/null'
if [ "$MODEL" = system ]; then
	ve_check "$KVM holds one system-wide reference after load" kvm_holds_system
	ve_check "every online CPU on after load (hardware)" ve_all_hw 1
	ve_check "exactly one broadcast for the load" \
		ve_same "$(ve_counter broadcasts)" "$((before + 1))"
	for cpu in $(ve_online_cpus); do
		ve_check "CPU $cpu enabled once" \
			ve_same "$(ve_cpu_field "$cpu" enables)" "$(($(eval echo \$enables_$cpu) + 1))"
	done
else
	ve_check "$KVM holds nothing before its first VM" kvm_holds_nothing
	ve_check "nothing on before the first VM (hardware)" ve_all_hw 0
fi

# --- real guests ---
for cpu in $(ve_online_cpus); do
	ve_check "a guest runs on CPU $cpu: KVM_EXIT_IO 42, then KVM_EXIT_HLT" \
		ve_guest --cpu "$cpu" --value 42
done
ve_check "a guest with 2 vCPUs runs" ve_guest --vcpus 2 --value 7
"$GUEST" --hold 4 --value 1 >/tmp/held.out 2>&1 &
held=$!
sleep 2
ve_check "while a VM exists, $KVM holds $( [ "$MODEL" = system ] && echo 'its system-wide reference' || echo 'a per-CPU reference on every CPU')" \
	kvm_holds_for_vm
wait $held
ve_check "the held VM ran once released" ve_same "$?" 0
[ "$MODEL" = percpu ] &&
	ve_check "the last VM gone, $KVM holds nothing and $F is off" \
		eval 'kvm_holds_nothing && ve_all_hw 0'

# --- sharing with another user ---
exec 3>$VE_CTL
ve_cmd 3 "get $F"
before=$(ve_hw_transitions)
"$GUEST" --hold 2 >/dev/null 2>&1 &
held=$!
sleep 1
ve_check "KVM and a debugfs user together: the VM adds no hardware transition" \
	ve_same "$(ve_hw_transitions)" "$before"
wait $held
ve_check "rmmod $KVM while another user holds $F" rmmod "$KVM" kvm
ve_check "the hardware stays on for the other user" ve_all_hw 1
ve_check "$KVM's user is gone" eval '! kvm_user >/dev/null'
before=$(ve_hw_transitions)
ve_check "modprobe $KVM while the debugfs user holds $F" modprobe "$KVM"
ve_check "...causes no hardware transition" ve_same "$(ve_hw_transitions)" "$before"
exec 3>&-
if [ "$MODEL" = system ]; then
	ve_check "the debugfs user gone, $KVM keeps every CPU on" ve_all_hw 1
	ve_check "rmmod $KVM, the last user, turns every CPU off (hardware)" \
		eval 'rmmod $KVM kvm && ve_all_hw 0'
else
	ve_check "the debugfs user gone and no VM: every CPU off" ve_all_hw 0
	rmmod "$KVM" kvm
fi
ve_check "no user left" ve_same "$(ve_field users)" 0
if ! ve_builtin; then
	ve_check "virt_enable unloads after KVM" ve_unload
	ve_load
	modprobe "$KVM"
	ve_check "virt_enable cannot unload under KVM" ve_not rmmod virt_enable 2>/dev/null
else
	modprobe "$KVM"
fi

# --- lifecycle with a VM open ---
"$GUEST" --hold 30 --value 5 >/tmp/life.out 2>&1 &
held=$!
sleep 1
if [ -n "$(ve_online_cpus | grep -x 1)" ]; then
	ve_check "CPU 1 offline with a VM open" ve_set_online 1 0
	ve_check "CPU 1 online again with a VM open" ve_set_online 1 1
	ve_check "CPU 1 on again (hardware)" ve_same "$(ve_hw 1)" 1
	ve_check "a guest runs on CPU 1 after its return" ve_guest --cpu 1 --value 43
fi
ve_check "suspend/resume (pm_test=core) with KVM loaded and a VM open" ve_suspend
ve_check "every CPU on after resume (hardware)" ve_all_hw 1
ve_check "a guest runs after resume" ve_guest --value 44
kill "$held" 2>/dev/null
wait "$held" 2>/dev/null
rmmod "$KVM" kvm
ve_check "$KVM gone: every CPU off (hardware)" ve_all_hw 0

# --- enable_virt_at_load=0 (6.12): nothing until the first VM ---
if [ "$MODEL" = system ]; then
	ve_check "modprobe $KVM with kvm.enable_virt_at_load=0" \
		eval 'modprobe kvm enable_virt_at_load=0 && modprobe $KVM'
	ve_check "...holds no reference before the first VM" kvm_holds_nothing
	ve_check "...and nothing is on (hardware)" ve_all_hw 0
	"$GUEST" --hold 3 >/dev/null 2>&1 &
	held=$!
	sleep 1
	ve_check "the first VM takes the system-wide reference" kvm_holds_system
	ve_check "...and every CPU is on (hardware)" ve_all_hw 1
	wait $held
	ve_check "the last VM closed drops it: nothing held, every CPU off" \
		eval 'kvm_holds_nothing && ve_all_hw 0'
	rmmod "$KVM" kvm
fi
ve_check "no user left at the end" ve_same "$(ve_field users)" 0
