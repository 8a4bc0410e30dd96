# SPDX-License-Identifier: GPL-2.0
# KVM as a virt_enable user, on a kernel with the KVM series (ve.kvm=percpu):
# both series take a per-CPU reference on every online CPU while KVM has
# virtualization enabled, 6.12 from module load (enable_virt_at_load=1, its
# default) and 6.1 while VMs exist.  Its references, real guests on every
# CPU, sharing with another user, CPU hotplug, suspend and, on 6.12,
# enable_virt_at_load=0.
. /tests/lib.sh
VE_SUITE=kvm
F=$VE_FEATURE
KVM=$(ve_kvm_module)
GUEST=/tests/kvm_guest_test

kvm_user() { ve_user_line "$KVM\""; }
# The user's whole line: nothing held, or exactly one per-CPU reference on
# every online CPU and nothing on any other CPU, nothing system-wide.
kvm_holds_nothing() {
	ve_same "$(kvm_user)" "user \"$KVM\" system 0 permanent 0 percpu"
}
kvm_holds_every_cpu() {
	want="user \"$KVM\" system 0 permanent 0 percpu"
	for cpu in $(ve_online_cpus); do want="$want $cpu:1"; done
	ve_same "$(kvm_user)" "$want"
}
# Whether the loaded kvm.ko enables virtualization from load (6.12's
# enable_virt_at_load=1) rather than per VM (6.1, or 6.12 with =0).
kvm_at_load() {
	[ "$(cat /sys/module/kvm/parameters/enable_virt_at_load 2>/dev/null)" = Y ]
}

ve_probe_load
ve_load

ve_check "this kernel's KVM series takes per-CPU references (ve.kvm=percpu)" \
	ve_same "$(ve_kvm_model)" percpu

# --- load: one user; per-CPU references from KVM's own enabling ---
before=$(ve_counter broadcasts)
for cpu in $(ve_online_cpus); do eval "enables_$cpu=$(ve_cpu_field "$cpu" enables)"; done
ve_check "modprobe $KVM (patched) loads" modprobe "$KVM"
ve_check "state lists the $KVM user" eval 'kvm_user >/dev/null'
# 6.12's kvm.ko has enable_virt_at_load; 6.1's has not.
has_at_load=
[ ! -e /sys/module/kvm/parameters/enable_virt_at_load ] || has_at_load=1
if kvm_at_load; then
	ve_check "$KVM holds one per-CPU reference on every online CPU after load, none system-wide" \
		kvm_holds_every_cpu
	ve_check "every online CPU on after load (hardware)" ve_all_hw 1
	ve_check "no broadcast for the load: KVM enabled each CPU from its own hotplug step" \
		ve_same "$(ve_counter broadcasts)" "$before"
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
ve_check "while a VM exists, $KVM holds a per-CPU reference on every CPU" \
	kvm_holds_every_cpu
wait $held
ve_check "the held VM ran once released" ve_same "$?" 0
if kvm_at_load; then
	ve_check "the last VM gone, $KVM keeps its references and $F stays on (enable_virt_at_load)" \
		eval 'kvm_holds_every_cpu && ve_all_hw 1'
else
	ve_check "the last VM gone, $KVM holds nothing and $F is off" \
		eval 'kvm_holds_nothing && ve_all_hw 0'
fi

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
kvm_at_load &&
	ve_check "...and takes its per-CPU references all the same" kvm_holds_every_cpu
exec 3>&-
if kvm_at_load; then
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
# Brief (CI's Bochs guests): kvmlife covers the same offline, online and
# suspend with a vCPU looping in KVM_RUN; QEMU's guests and make
# check-full run this too.
if ve_brief; then
	ve_say "# kvm: brief: the lifecycle with a VM open is left to kvmlife here"
	rmmod "$KVM" kvm
else
	"$GUEST" --hold 30 --value 5 >/tmp/life.out 2>&1 &
	held=$!
	sleep 1
	if [ -n "$(ve_online_cpus | grep -x 1)" ]; then
		ve_check "CPU 1 offline with a VM open" ve_set_online 1 0
		ve_check "...$KVM put its reference on CPU 1 and $F went off there" \
			eval 'kvm_holds_every_cpu && ve_same "$(ve_cpu_field 1 hw)" 0'
		ve_check "CPU 1 online again with a VM open" ve_set_online 1 1
		ve_check "CPU 1 on again (hardware)" ve_same "$(ve_hw 1)" 1
		ve_check "...with $KVM's reference on it again" kvm_holds_every_cpu
		ve_check "a guest runs on CPU 1 after its return" ve_guest --cpu 1 --value 43
	fi
	ve_check "suspend/resume (pm_test=core) with KVM loaded and a VM open" ve_suspend
	ve_check "every CPU on after resume (hardware)" ve_all_hw 1
	ve_check "$KVM holds its per-CPU references again after resume" kvm_holds_every_cpu
	ve_check "a guest runs after resume" ve_guest --value 44
	kill "$held" 2>/dev/null
	wait "$held" 2>/dev/null
	rmmod "$KVM" kvm
	ve_check "$KVM gone: every CPU off (hardware)" ve_all_hw 0
fi

# --- enable_virt_at_load=0 (6.12): nothing until the first VM ---
if [ -n "$has_at_load" ]; then
	ve_check "modprobe $KVM with kvm.enable_virt_at_load=0" \
		eval 'modprobe kvm enable_virt_at_load=0 && modprobe $KVM'
	ve_check "...holds no reference before the first VM" kvm_holds_nothing
	ve_check "...and nothing is on (hardware)" ve_all_hw 0
	# Held until the checks are done: a slow emulator may take seconds
	# over them.
	"$GUEST" --hold 300 >/dev/null 2>&1 &
	held=$!
	sleep 1
	ve_check "the first VM takes a per-CPU reference on every CPU" kvm_holds_every_cpu
	ve_check "...and every CPU is on (hardware)" ve_all_hw 1
	kill "$held" 2>/dev/null
	wait "$held" 2>/dev/null
	ve_check "the last VM closed puts them: nothing held, every CPU off" \
		eval 'kvm_holds_nothing && ve_all_hw 0'
	rmmod "$KVM" kvm
fi
ve_check "no user left at the end" ve_same "$(ve_field users)" 0
