# SPDX-License-Identifier: GPL-2.0
# Debian's linux-headers packages, found and unpacked without installing
# them (the 6.12 ones would pull in a kernel image); sourced by
# tests/headers.sh and tests/debian.sh, after tests/vm/lib.sh.

debs=$VE_CACHE/debs
mkdir -p "$debs"

# flavours REGEX: the header ABIs (e.g. 6.12.117+deb12) matching REGEX, oldest first.
flavours() {
	apt-cache search --names-only "^linux-headers-$1-amd64\$" | awk '{ print $1 }' |
		sed 's/^linux-headers-//; s/-amd64$//' | sort -V
}

newest() { flavours "$1" | tail -n 1; }

# newest_before REGEX VERSION: the newest ABI that sorts before VERSION.
newest_before() {
	{ flavours "$1"; echo "$2"; } | sort -V | awk -v v="$2" '$0 == v { exit } { print }' |
		tail -n 1
}

# unpack ABI: download and unpack the headers for ABI (e.g. 6.12.117+deb12),
# print the kernel build directory.
unpack() {
	local abi=$1 root=$VE_CACHE/headers/$1 kbuild
	local kdir=$root/usr/src/linux-headers-$1-amd64

	if [ ! -f "$root/.ve-unpacked" ]; then
		case $abi in
		6.1.*) kbuild=linux-kbuild-6.1 ;;
		*) kbuild=linux-kbuild-$abi ;;
		esac
		(cd "$debs" && apt-get download -qq "linux-headers-$abi-amd64" \
			"linux-headers-$abi-common" "$kbuild" 2>/dev/null) || return 1
		rm -rf "$root"
		mkdir -p "$root"
		for deb in "$debs"/linux-headers-"$abi"-{amd64,common}_*.deb \
			   "$debs"/"$kbuild"_*.deb; do
			dpkg-deb -x "$deb" "$root" || return 1
		done
		# The flavour's Makefile includes the common tree by absolute path.
		sed -i "s#^include /usr/src/#include $root/usr/src/#" "$kdir/Makefile"
		touch "$root/.ve-unpacked"
	fi
	echo "$kdir"
}

