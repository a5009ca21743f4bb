#!/bin/sh
# Healthy when the server answers on its socket (an "access denied" answer still proves it runs).
exec mariadb-admin --socket=/run/mysqld/mysqld.sock --connect-timeout=2 ping >/dev/null 2>&1
