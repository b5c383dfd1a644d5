# Shared by tools/up, tools/down and tools/test.  Sourced, not run.
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGBIN=/usr/lib/postgresql/15/bin
VAR="$TOP/var"
CONF="$TOP/etc/madoguchi.conf"

say() { printf '%s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# install_groups GROUP...: apt-get what is missing, nothing else
install_groups() {
	local want=() p
	for g in "$@"; do
		while read -r grp pkg; do
			[ "$grp" = "$g" ] || continue
			dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
				want+=("$pkg")
		done < <(grep -v '^#' "$TOP/tools/packages")
	done
	[ ${#want[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages (${want[*]}); run as root to install them"
	say "installing: ${want[*]}"
	# postfix asks questions otherwise; we only use its smtp-sink
	echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
	echo "postfix postfix/mailname string localhost" | debconf-set-selections
	apt-get update -qq || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		-o DPkg::Lock::Timeout=600 "${want[@]}" >"$TOP/var/apt-install.log" 2>&1 ||
		die "apt-get install failed; see var/apt-install.log"
}

# build DIR [configure args]: configure once, then make
build_in() {
	local dir="$TOP/build/$1"; shift
	if [ ! -x "$TOP/configure" ] || [ "$TOP/configure.ac" -nt "$TOP/configure" ] ||
	   [ -n "$(find "$TOP" -name local.mk -newer "$TOP/configure" -print -quit)" ]; then
		(cd "$TOP" && autoreconf -fi >/dev/null 2>&1) || die "autoreconf failed"
	fi
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ] || [ "$TOP/configure" -nt "$dir/Makefile" ]; then
		(cd "$dir" && "$TOP/configure" -q "$@") || die "configure failed in $dir"
	fi
	make -s -C "$dir" -j"$(nproc)" all >"$dir/make.log" 2>&1 ||
		{ tail -30 "$dir/make.log"; die "build failed in $dir (see $dir/make.log)"; }
}

pg_running() {
	[ -f "$VAR/pg/postmaster.pid" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$VAR/pg" status >/dev/null 2>&1
}

psql_su() {
	psql -X -q -v ON_ERROR_STOP=1 -h "$VAR/run" -U postgres "$@"
}

# daemon_start NAME BINARY: start in the background unless its pid file names a live process
daemon_start() {
	local name=$1 bin=$2 pidf="$VAR/run/$1.pid"
	if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
		say "$name is running (pid $(cat "$pidf"))"
		return 0
	fi
	(cd "$TOP" && exec setsid "$bin" -c "$CONF" >>"$VAR/log/$name.log" 2>&1 </dev/null) &
	echo $! >"$pidf"
	say "started $name (pid $!), log in var/log/$name.log"
}

daemon_stop() {
	local name=$1 pidf="$VAR/run/$1.pid" pid
	[ -f "$pidf" ] || return 0
	pid=$(cat "$pidf")
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
		say "stopped $name"
	fi
	rm -f "$pidf"
}
