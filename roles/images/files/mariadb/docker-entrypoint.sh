#!/usr/bin/env bash
# First start: initialise the data directory, set the root password, create MYSQL_DATABASE and
# MYSQL_USER. Every start: run mariadbd in the foreground. A marker file, not an empty data
# directory, says whether the first start happened (Debian's package ships a populated one).
set -eo pipefail

DATADIR=/var/lib/mysql
MARKER="$DATADIR/.spin-initialized"
SOCKET=/run/mysqld/mysqld.sock

log() { echo "$(date -u +%FT%TZ) [entrypoint] $*" >&2; }
die() { log "error: $*"; exit 1; }

# VAR or VAR_FILE (a secret), never both; MARIADB_* is accepted for MYSQL_*.
file_env() {
	local var="$1" alias="MARIADB_${1#MYSQL_}" val=""
	local file_var="${var}_FILE" alias_file="${alias}_FILE"
	if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then die "both $var and $file_var are set; give one of them"; fi
	if [ -n "${!var:-}" ]; then val="${!var}"
	elif [ -n "${!file_var:-}" ]; then
		[ -r "${!file_var}" ] || die "$file_var names ${!file_var}, which cannot be read"
		val="$(< "${!file_var}")"
	elif [ -n "${!alias:-}" ]; then val="${!alias}"
	elif [ -n "${!alias_file:-}" ]; then
		[ -r "${!alias_file}" ] || die "$alias_file names ${!alias_file}, which cannot be read"
		val="$(< "${!alias_file}")"
	fi
	export "$var"="$val"
	unset "$file_var" "$alias_file"
}

sql_string() { local s="${1//\\/\\\\}"; printf "'%s'" "${s//\'/\\\'}"; }
# shellcheck disable=SC2016  # the backticks are SQL's identifier quotes, not a command substitution
sql_ident() { printf '`%s`' "${1//\`/\`\`}"; }

if [ "${1:0:1}" = '-' ]; then set -- mariadbd "$@"; fi
if [ "$1" = mysqld ]; then shift; set -- mariadbd "$@"; fi

if [ "$1" != mariadbd ]; then exec "$@"; fi

as_user=()
if [ "$(id -u)" = 0 ]; then
	chown mysql:mysql "$DATADIR" /run/mysqld
	as_user=(--user=mysql)
elif [ ! -w "$DATADIR" ]; then
	die "$DATADIR is not writable by uid $(id -u); give the volume to that uid or run as root"
fi

initialise() {
	for v in MYSQL_ROOT_PASSWORD MYSQL_DATABASE MYSQL_USER MYSQL_PASSWORD MYSQL_ROOT_HOST; do file_env "$v"; done
	: "${MYSQL_ROOT_HOST:=%}"
	if [ -z "$MYSQL_ROOT_PASSWORD" ] && [ -z "${MYSQL_ALLOW_EMPTY_PASSWORD:-${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:-}}" ] \
		&& [ -z "${MYSQL_RANDOM_ROOT_PASSWORD:-${MARIADB_RANDOM_ROOT_PASSWORD:-}}" ]; then
		die "the database is not initialised and no root password is given: set MYSQL_ROOT_PASSWORD (or MYSQL_ROOT_PASSWORD_FILE), MYSQL_ALLOW_EMPTY_PASSWORD or MYSQL_RANDOM_ROOT_PASSWORD"
	fi
	if [ -n "${MYSQL_RANDOM_ROOT_PASSWORD:-${MARIADB_RANDOM_ROOT_PASSWORD:-}}" ]; then
		MYSQL_ROOT_PASSWORD="$(head -c 18 /dev/urandom | base64)"
		log "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
	fi
	if [ -n "$MYSQL_USER" ] && [ -z "$MYSQL_PASSWORD" ]; then die "MYSQL_USER is set but MYSQL_PASSWORD (or MYSQL_PASSWORD_FILE) is not"; fi
	if [ "$MYSQL_USER" = root ]; then die "MYSQL_USER must not be root; use MYSQL_ROOT_PASSWORD for root"; fi

	if [ ! -d "$DATADIR/mysql" ]; then
		log "initialising the data directory"
		mariadb-install-db --datadir="$DATADIR" "${as_user[@]}" --auth-root-authentication-method=normal \
			--skip-test-db --skip-name-resolve >/dev/null
	fi
	log "starting a temporary server for the first-start set-up"
	mariadbd "${as_user[@]}" --datadir="$DATADIR" --skip-networking --socket="$SOCKET" &
	local pid=$!
	for _ in $(seq 60); do mariadb-admin --socket="$SOCKET" ping >/dev/null 2>&1 && break; sleep 0.5; done
	mariadb-admin --socket="$SOCKET" ping >/dev/null 2>&1 || die "the temporary server did not start"

	{
		echo "SET @@SESSION.SQL_LOG_BIN=0;"
		echo "DELETE FROM mysql.user WHERE User='';"
		echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $(sql_string "$MYSQL_ROOT_PASSWORD");"
		if [ "$MYSQL_ROOT_HOST" != localhost ]; then
			echo "CREATE USER IF NOT EXISTS 'root'@$(sql_string "$MYSQL_ROOT_HOST") IDENTIFIED BY $(sql_string "$MYSQL_ROOT_PASSWORD");"
			echo "GRANT ALL ON *.* TO 'root'@$(sql_string "$MYSQL_ROOT_HOST") WITH GRANT OPTION;"
		fi
		if [ -n "$MYSQL_DATABASE" ]; then echo "CREATE DATABASE IF NOT EXISTS $(sql_ident "$MYSQL_DATABASE");"; fi
		if [ -n "$MYSQL_USER" ]; then
			echo "CREATE USER IF NOT EXISTS $(sql_string "$MYSQL_USER")@'%' IDENTIFIED BY $(sql_string "$MYSQL_PASSWORD");"
			if [ -n "$MYSQL_DATABASE" ]; then
				echo "GRANT ALL ON $(sql_ident "$MYSQL_DATABASE").* TO $(sql_string "$MYSQL_USER")@'%';"
			fi
		fi
		echo "FLUSH PRIVILEGES;"
	} | mariadb --socket="$SOCKET" -uroot

	for f in /docker-entrypoint-initdb.d/*; do
		case "$f" in
			*.sh) log "running $f"; . "$f" ;;
			*.sql) log "loading $f"; mariadb --socket="$SOCKET" -uroot -p"$MYSQL_ROOT_PASSWORD" ${MYSQL_DATABASE:+"$MYSQL_DATABASE"} < "$f" ;;
			*.sql.gz) log "loading $f"; gunzip -c "$f" | mariadb --socket="$SOCKET" -uroot -p"$MYSQL_ROOT_PASSWORD" ${MYSQL_DATABASE:+"$MYSQL_DATABASE"} ;;
		esac
	done

	mariadb-admin --socket="$SOCKET" -uroot -p"$MYSQL_ROOT_PASSWORD" shutdown
	wait "$pid" || true
	touch "$MARKER"
	log "first-start set-up done"
}

if [ ! -e "$MARKER" ]; then initialise; fi
unset MYSQL_ROOT_PASSWORD MYSQL_PASSWORD MARIADB_ROOT_PASSWORD MARIADB_PASSWORD
exec "$@" "${as_user[@]}" --datadir="$DATADIR" --socket="$SOCKET" --bind-address=0.0.0.0 --port=3306
