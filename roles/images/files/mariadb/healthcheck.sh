#!/bin/sh
# Healthy once the real server listens on TCP: the first-start set-up runs a temporary server with
# networking off, so clients never meet a half-initialised database. An "access denied" answer
# still proves the server runs.
exec mariadb-admin --protocol=tcp --host=127.0.0.1 --port=3306 --connect-timeout=2 ping >/dev/null 2>&1
