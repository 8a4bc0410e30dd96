# SPDX-License-Identifier: GPL-2.0
# On Debian's own kernel: the patched KVM as DKMS built it (kvm.ko,
# kvm-amd.ko in /dkms-kvm), loaded next to Debian's own modules, runs real
# guests through virt_enable; Debian's other kvm users would still load,
# since kvm.ko kept its symbol CRCs (checked on the host).
. /tests/lib.sh
VE_SUITE=dkms-kvm
F=$VE_FEATURE
KVM=$(ve_kvm_module)

ve_probe_load
ve_load
modprobe -q irqbypass
[ "$F" = svm ] && modprobe -q ccp
ve_check "the DKMS-built kvm.ko loads into Debian's kernel" insmod /dkms-kvm/kvm.ko
ve_check "the DKMS-built $KVM loads" insmod /dkms-kvm/"$(echo "$KVM" | tr _ -)".ko
want="user \"$KVM\" system 0 permanent 0 percpu"
for cpu in $(ve_online_cpus); do want="$want $cpu:1"; done
ve_check "it is a virt_enable user holding a per-CPU reference on every CPU (enable_virt_at_load)" \
	ve_same "$(ve_user_line "$KVM\"")" "$want"
ve_check "every CPU on (hardware)" ve_all_hw 1
for cpu in $(ve_online_cpus); do
	ve_check "a guest runs on CPU $cpu: KVM_EXIT_IO 42, then KVM_EXIT_HLT" ve_guest --cpu "$cpu"
done
ve_check "a guest with 2 vCPUs runs" ve_guest --vcpus 2
ve_check "rmmod $KVM kvm turns every CPU off (hardware)" eval 'rmmod $KVM kvm && ve_all_hw 0'
ve_check "no user left" ve_same "$(ve_field users)" 0
