# SPDX-License-Identifier: GPL-2.0
# Runs last: leaves a reference held going into the guest's poweroff, which
# must turn $VE_FEATURE off through syscore shutdown (the host checks the log).
. /tests/lib.sh
VE_SUITE=shutdown
F=$VE_FEATURE

ve_probe_load
ve_load
# A holder that outlives this script.
sh -c "exec 3>$VE_CTL; echo 'get $F' >&3 && touch /tmp/held; exec sleep 100000" &
for i in $(seq 50); do [ -e /tmp/held ] && break; sleep 0.1; done
ve_check "a reference is held going into poweroff" ve_all_hw 1
