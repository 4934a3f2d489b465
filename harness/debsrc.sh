# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the scripts that fetch a Debian source package (liburing.sh,
# qemu-plugin.sh): debsrc_ready PACKAGE makes `apt-get source PACKAGE`
# work, with a deb-src entry of our own for the suite this machine runs,
# /etc/apt/sources.list.d/iowq-deb-src.sources, and an `apt-get update`
# when the source index lacks PACKAGE.  Needs die() and say().

DEBSRC=/etc/apt/sources.list.d/iowq-deb-src.sources

debsrc_ready() {
	local pkg=$1 sudo= update=
	if [ "$(id -u)" != 0 ]; then
		if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
			sudo=sudo
		fi
	fi
	# dpkg-source (dpkg-dev, in the Makefile's PKGS) unpacks what
	# apt-get source downloads.
	command -v dpkg-source >/dev/null || die "dpkg-source missing: install dpkg-dev"
	if [ ! -f "$DEBSRC" ]; then
		[ "$(id -u)" = 0 ] || [ -n "$sudo" ] ||
			die "not root and no sudo: please create $DEBSRC (Types: deb-src) for 'apt-get source $pkg'"
		local suite
		suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
		[ -n "$suite" ] || die "no VERSION_CODENAME in /etc/os-release: cannot write $DEBSRC"
		say "deps: adding $DEBSRC (deb-src, $suite main)"
		printf '%s\n' "Types: deb-src" "URIs: http://deb.debian.org/debian" \
			"Suites: $suite" "Components: main" \
			"Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" |
			$sudo tee "$DEBSRC" >/dev/null
		update=1
	fi
	if [ -n "$update" ] || [ -z "$(apt-cache showsrc "$pkg" 2>/dev/null)" ]; then
		[ "$(id -u)" = 0 ] || [ -n "$sudo" ] ||
			die "not root and no sudo: please run 'apt-get update'"
		say "deps: apt-get update (source index)"
		$sudo apt-get update -q
	fi
}
