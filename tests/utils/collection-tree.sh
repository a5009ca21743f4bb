#!/usr/bin/env bash
# Print a directory .../ansible_collections/spin/platform that holds this checkout, for the tools that
# need the collection at such a path (ansible-test, antsibull-docs, antsibull-changelog):
#   tests/utils/collection-tree.sh            the checkout itself where it already sits at such a path,
#                                             else a fresh copy under $SPIN_COLLECTION_TREE (default: a
#                                             directory per checkout under $TMPDIR or /tmp)
#   tests/utils/collection-tree.sh --copy DIR always a fresh copy, under DIR (for tools that write)
# The copy holds the files git tracks plus untracked files git does not ignore, so uncommitted changes
# are tested too; it lies outside any git repository, where ansible-test would list files with git.
# tests/output/spin-checkout in the copy holds the checkout's path.
set -euo pipefail
checkout="$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd -P)"

base=""
if [ "${1:-}" = --copy ]; then
    base="$2"
else
    case "$checkout" in
        */ansible_collections/spin/platform) printf '%s\n' "$checkout"; exit 0 ;;
    esac
    base="${SPIN_COLLECTION_TREE:-${TMPDIR:-/tmp}/spin-collection-$(printf %s "$checkout" | md5sum | cut -c1-8)}"
fi
root="$base/ansible_collections/spin/platform"
rm -rf "$root"
mkdir -p "$root"
# (files git still lists but that are deleted in the work tree are left out)
(cd "$checkout" && git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi; done \
    | tar --null --no-recursion -T - -cf -) \
    | tar -C "$root" -xf -
# the copy names its checkout (in ansible-test's output directory, which no test reads as content), so that
# tests find what lies beside the checkout: ../shared/compose-spec/compose-spec.json
mkdir -p "$root/tests/output"
printf '%s\n' "$checkout" > "$root/tests/output/spin-checkout"
printf '%s\n' "$root"
