#!/usr/bin/env bash
# The quick start's commands, on a Debian machine where only python3 exists:
#   ./spin up      bring up the local single-node platform and deploy the example stack
#   ./spin test    run every test: lint, unit, integration on the real engine, molecule
#                  (--full: also the slowest molecule scenarios, e.g. cluster)
#   ./spin bench   run the benchmarks (not part of the tests)
#   ./spin down    remove the example stack (the platform stays)
# Both up and test are safe to repeat: what is already there is left alone.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

VENV="${SPIN_VENV:-.venv}"
export ANSIBLE_CONFIG="$PWD/ansible.cfg"
export PATH="$PWD/$VENV/bin:$PATH"

say() { printf '\n==> %s\n' "$*"; }

# Run from a checkout, spin.platform.* resolves through ansible.cfg's collections_path to this
# uncommitted link (a committed one loops the collection into itself for ansible-test and
# ansible-galaxy); tests/conftest.py makes the same link for pytest.
ensure_checkout_link() {
    [ -L playbooks/collections/ansible_collections/spin/platform ] && return 0
    mkdir -p playbooks/collections/ansible_collections/spin
    ln -sfn ../../../.. playbooks/collections/ansible_collections/spin/platform
}
ensure_checkout_link

ensure_venv() {
    local stamp="$VENV/.spin-requirements"
    if [ -x "$VENV/bin/python" ] && cmp -s <(cat requirements.txt tests/requirements.txt constraints.txt) "$stamp" 2>/dev/null; then
        return 0
    fi
    say "Python tools into $VENV (tests/requirements.txt: ansible-core, docker SDK, molecule, pytest, ansible-lint, antsibull)"
    if ! python3 -m venv "$VENV" 2>/dev/null; then
        # Debian's python3 without ensurepip
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
        python3 -m venv "$VENV"
    fi
    if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt -c constraints.txt \
            > "$VENV/pip-install.log" 2>&1; then
        tail -n 30 "$VENV/pip-install.log" >&2
        echo "pip could not install the tools (full log: $VENV/pip-install.log)" >&2
        exit 1
    fi
    cat requirements.txt tests/requirements.txt constraints.txt > "$stamp"
}

platform() {
    say "Platform: Docker engine, swarm, images (playbooks/site.yml)"
    ansible-playbook -i inventory/local.yml playbooks/site.yml "$@"
}

deploy_example() {
    say "Example stack (examples/seed) through playbooks/deploy.yml"
    ansible-playbook -i inventory/local.yml playbooks/deploy.yml -e @examples/seed/vars.yml "$@"
}

run_tests() {
    local started=$SECONDS full=0
    [ "${1:-}" = --full ] && full=1
    say "ansible-lint (production profile)"
    ansible-lint --profile production --offline roles playbooks molecule
    say "Unit tests"
    pytest -q tests/unit
    say "Integration tests on the real engine"
    pytest -q tests/integration
    say "Molecule scenarios"
    local scenario file
    for file in molecule/*/molecule.yml; do
        scenario=$(basename "$(dirname "$file")")
        # the slowest scenarios say so in their molecule.yml and run with ./spin test --full only
        if [ "$full" != 1 ] && grep -q '^# spin-test: full$' "$file"; then
            say "Molecule scenario $scenario: skipped (./spin test --full runs it)"
            continue
        fi
        local began=$SECONDS
        molecule test --scenario-name "$scenario"
        say "Molecule scenario $scenario passed in $((SECONDS - began)) s"
    done
    say "All tests passed in $((SECONDS - started)) s"
}

case "${1:-}" in
    up)
        ensure_venv
        platform
        if [ -f playbooks/deploy.yml ]; then deploy_example; fi
        ;;
    test)
        ensure_venv
        platform
        run_tests "${@:2}"
        ;;
    bench)
        ensure_venv
        platform
        say "Benchmarks"
        python tests/bench/run.py "${@:2}"
        ;;
    down)
        ensure_venv
        ansible-playbook -i inventory/local.yml playbooks/remove.yml -e @examples/seed/vars.yml
        ;;
    *)
        sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
esac
