#!/usr/bin/env bash
# The quick start's commands, on a Debian machine where only python3 exists:
#   ./spin up      bring up the local single-node platform and deploy the example stack
#   ./spin test    run every test: lint, sanity, unit, docs, changelog, oldest ansible-core,
#                  integration on the real engine, every molecule scenario (--full: also any marked
#                  '# spin-test: full' in its molecule.yml; none is today)
#   ./spin checks  only the static checks (ansible-test sanity, antsibull-docs, antsibull-changelog)
#                  (./spin sanity|units [ansible-test options]: one of them, e.g. --test pep8)
#   ./spin bench   run the benchmarks (not part of the tests)
#   ./spin down    remove the example stack (the platform stays)
# up and test are safe to repeat: what is already there is left alone.
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

# bindep_missing [profile]: the Debian packages of bindep.txt for the profile (none: the set without a profile)
# that are not installed. bindep's format, read without bindep (a fresh machine has only python3).
bindep_missing() {
    local name
    awk -v want="${1:-}" '
        /^[[:space:]]*(#|$)/ { next }
        {
            sel = ""; if (match($0, /\[[^]]*\]/)) sel = substr($0, RSTART + 1, RLENGTH - 2)
            n = split(sel, parts, " "); other = 0; profiles = 0; hit = 0
            for (i = 1; i <= n; i++) {
                if (parts[i] ~ /^platform:/) { if (parts[i] != "platform:dpkg") other = 1 }
                else { profiles++; if (parts[i] == want) hit = 1 }
            }
            if (!other && ((want == "" && profiles == 0) || (want != "" && hit))) print $1
        }' bindep.txt | while read -r name; do
        dpkg-query -W -f='${Status}\n' "$name" 2>/dev/null | grep -q '^install ok installed$' || echo "$name"
    done
}

# system_packages [profile]: install what bindep_missing names (root, Debian's apt)
system_packages() {
    local missing
    missing="$(bindep_missing "${1:-}" | tr '\n' ' ')"
    [ -z "${missing// }" ] && return 0
    say "Debian packages of bindep.txt${1:+ (profile $1)}: $missing"
    # shellcheck disable=SC2086  # one word per package
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
}

ensure_venv() {
    local stamp="$VENV/.spin-requirements"
    if [ -x "$VENV/bin/python" ] && cmp -s <(cat requirements.txt tests/requirements.txt constraints.txt) "$stamp" 2>/dev/null; then
        return 0
    fi
    system_packages
    say "Python tools into $VENV (tests/requirements.txt: ansible-core, docker SDK, molecule, pytest, ansible-lint, antsibull)"
    python3 -m venv "$VENV"
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

# The example is tenant demo's submission: its files in demo's directory, owned by demo's uid, as a
# tenant's upload would leave them (the registry, inventory/group_vars/all/spin_tenants.yml, gives the uid).
SUBMISSIONS=/srv/spin/submissions
EXAMPLE="$SUBMISSIONS/demo/seed"
stage_example() {
    local uid gid
    read -r uid gid < <(python -c 'import yaml
demo = yaml.safe_load(open("inventory/group_vars/all/spin_tenants.yml"))["spin_tenants"]["demo"]
print(demo["uid"], demo["gid"])')
    install -d -m 0755 "$SUBMISSIONS"
    rm -rf "$EXAMPLE"   # exactly the example's files, nothing left from an earlier hand-in
    install -d -o "$uid" -g "$gid" -m 0750 "$SUBMISSIONS/demo" "$EXAMPLE"
    install -o "$uid" -g "$gid" -m 0644 examples/seed/docker-compose.yml examples/seed/rancher-compose.yml "$EXAMPLE/"
}

deploy_example() {
    say "Example stack (examples/seed, staged as tenant demo's submission $EXAMPLE) through playbooks/deploy.yml"
    stage_example
    ansible-playbook -i inventory/local.yml playbooks/deploy.yml -e spin_submission="$EXAMPLE" "$@"
}

# step "title" command...: run one step of the tests, and keep its time for the summary
STEP_TIMES=()
step() {
    local title=$1 began=$SECONDS
    shift
    say "$title"
    "$@"
    STEP_TIMES+=("$(printf '%6d s  %s' $((SECONDS - began)) "$title")")
}

# no_tracebacks command...: run an ansible tool (ansible-playbook, molecule); a traceback of the collection's
# code in its output fails the step even when the tool's exit code is 0 (a crash is a bug). The tests run
# with ANSIBLE_DISPLAY_TRACEBACK=error: ansible-core 2.19 hides tracebacks otherwise.
no_tracebacks() {
    local log rc=0
    log="$(mktemp)"
    "$@" 2>&1 | tee "$log" || rc=$?
    python3 tests/integration/tracebacks.py "$log" || rc=1
    rm -f "$log"
    return "$rc"
}

# ansible-test on one Python; extra ansible-test options pass through (e.g. --test pep8, a path).
# Its shellcheck test needs Debian's shellcheck (else it is skipped with a warning): bindep.txt's test profile.
sanity() {
    system_packages test
    tests/utils/ansible-test.sh sanity --local --python 3.11 --color no "$@"
}

# The edge benchmark drives load with wrk (Debian package), installed here as sanity installs shellcheck
bench_tools() {
    if ! command -v wrk >/dev/null; then
        say "wrk (Debian package), for the edge benchmark"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    fi
}

units() {
    tests/utils/ansible-test.sh units --venv --requirements --python 3.11 --color no "$@"
    schema_note
}

# The unit tests check the compose parser against the compose-spec schema, which is not part of the
# project: they read it beside the checkout, and skip where it is absent (CI does not fail for that).
COMPOSE_SPEC=../shared/compose-spec/compose-spec.json
schema_note() {
    if [ ! -f "$COMPOSE_SPEC" ]; then
        say "NOTE: the compose-spec schema tests did not run: $COMPOSE_SPEC (beside the checkout) is missing"
    fi
}

# The plugins' docs as the Ansible docsite builds them
collection_docs() {
    (cd "$(tests/utils/collection-tree.sh)" && antsibull-docs lint-collection-docs --plugin-docs .)
}

# The fragments lint; the pending release's changelog, generated from them in a scratch copy, lints too
changelog() {
    antsibull-changelog lint
    local scratch version tree
    scratch="$(mktemp -d)"
    version="$(sed -n 's/^version: *//p' galaxy.yml)"
    tree="$(tests/utils/collection-tree.sh --copy "$scratch")"
    (cd "$tree" && antsibull-changelog release --version "$version" >/dev/null \
        && antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml \
        && echo "release $version: CHANGELOG.md of $(wc -l < CHANGELOG.md) lines from $(ls "$OLDPWD"/changelogs/fragments | wc -l) fragments")
    rm -rf "$scratch"
}

# meta/runtime.yml's requires_ansible, proven: the unit tests and a playbook smoke test (the example's
# translation, and its deploy in check mode on this machine) on the oldest ansible-core it claims.
oldest_core() {
    local claimed pinned venv=.cache/venv-oldest
    claimed="$(sed -n 's/^requires_ansible: *">=\([0-9]*\.[0-9]*\).*/\1/p' meta/runtime.yml)"
    pinned="$(sed -n 's/^ansible-core==\([0-9]*\.[0-9]*\)\..*/\1/p' tests/requirements-oldest.txt)"
    if [ "$claimed" != "$pinned" ]; then
        echo "meta/runtime.yml claims ansible-core >=$claimed, tests/requirements-oldest.txt tests $pinned" >&2
        return 1
    fi
    # the upper bound is the minor release after the newest core tested (tests/requirements.txt's pin)
    local upper newest
    upper="$(sed -n 's/^requires_ansible: *"[^"]*,<\([0-9]*\.[0-9]*\)[.0-9]*".*/\1/p' meta/runtime.yml)"
    newest="$(sed -n 's/^ansible-core==\([0-9]*\)\.\([0-9]*\)\..*/\1.\2/p' tests/requirements.txt)"
    if [ "$upper" != "${newest%.*}.$((${newest#*.} + 1))" ]; then
        echo "meta/runtime.yml bounds ansible-core below '$upper', but the newest tested (tests/requirements.txt) is $newest" >&2
        return 1
    fi
    local docker_min docker_oldest
    docker_min="$(sed -n 's/^docker>=\([0-9.]*\)$/\1/p' requirements.txt)"
    docker_oldest="$(sed -n 's/^docker==\([0-9.]*\)$/\1/p' tests/requirements-oldest.txt)"
    if [ "$docker_min" != "$docker_oldest" ]; then
        echo "requirements.txt allows docker>=$docker_min, tests/requirements-oldest.txt tests $docker_oldest" >&2
        return 1
    fi
    if ! cmp -s tests/requirements-oldest.txt "$venv/.spin-requirements" 2>/dev/null; then
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements-oldest.txt \
            > "$venv/pip-install.log" 2>&1 || { tail -n 30 "$venv/pip-install.log" >&2; return 1; }
        cp tests/requirements-oldest.txt "$venv/.spin-requirements"
    fi
    "$venv/bin/ansible" --version | sed -n 1p   # sed reads it all: no broken pipe
    "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/unit
    local scratch
    scratch="$(mktemp -d)"
    stage_example
    no_tracebacks "$venv/bin/ansible-playbook" -i inventory/local.yml playbooks/translate.yml \
        -e spin_submission="$EXAMPLE" -e "spin_translate_dest=$scratch/seed.tasks.yml"
    no_tracebacks "$venv/bin/ansible-playbook" -i inventory/local.yml playbooks/deploy.yml \
        -e spin_submission="$EXAMPLE" --check
    rm -rf "$scratch"
    # a real deploy through the warm worker on this core: started by the first task, warm for the next ones
    # (the same test runs on the pinned core in the integration step)
    "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/integration/test_warm_worker.py \
        -k test_deploys_through_the_warm_worker_do_what_the_module_does
}

run_tests() {
    local started=$SECONDS full=0
    [ "${1:-}" = --full ] && full=1
    step "ansible-lint (production profile, the whole tree)" ansible-lint --profile production --offline
    step "ansible-test sanity (Python 3.11)" sanity
    step "ansible-test units (the unit tests)" units
    step "antsibull-docs lint-collection-docs --plugin-docs" collection_docs
    step "antsibull-changelog: fragments and the pending release's changelog" changelog
    step "Oldest claimed ansible-core: unit tests and a playbook smoke test" oldest_core
    step "Integration tests on the real engine" pytest -q tests/integration
    say "Molecule scenarios"
    local scenario file
    for file in molecule/*/molecule.yml; do
        scenario=$(basename "$(dirname "$file")")
        # a scenario too slow for every run may say so in its molecule.yml and run with ./spin test --full only
        # (none today: cluster, the slowest, runs in about 10 minutes)
        if [ "$full" != 1 ] && grep -q '^# spin-test: full$' "$file"; then
            say "Molecule scenario $scenario: skipped (./spin test --full runs it)"
            continue
        fi
        step "Molecule scenario $scenario" no_tracebacks molecule test --scenario-name "$scenario"
    done
    say "All tests passed in $((SECONDS - started)) s"
    printf '%s\n' "${STEP_TIMES[@]}"
    schema_note
}

case "${1:-}" in
    up)
        ensure_venv
        platform
        if [ -f playbooks/deploy.yml ]; then deploy_example; fi
        # the monitoring role's page on the edge, at the local route domain (inventory/local.yml: localhost)
        say "Monitoring: Prometheus at http://localhost/prometheus/ (user admin, password in /var/lib/spin/edge/stats.password); a tenant's stacks: playbooks/status.yml -e spin_submission=$EXAMPLE"
        ;;
    test)
        ensure_venv
        export ANSIBLE_DISPLAY_TRACEBACK=error
        no_tracebacks platform
        run_tests "${@:2}"
        ;;
    checks)
        ensure_venv
        step "ansible-test sanity (Python 3.11)" sanity
        step "antsibull-docs lint-collection-docs --plugin-docs" collection_docs
        step "antsibull-changelog: fragments and the pending release's changelog" changelog
        printf '%s\n' "${STEP_TIMES[@]}"
        ;;
    sanity|units)
        ensure_venv
        "$1" "${@:2}"
        ;;
    bench)
        ensure_venv
        system_packages bench
        platform
        bench_tools
        say "Benchmarks"
        python tests/bench/run.py "${@:2}"
        ;;
    down)
        ensure_venv
        ansible-playbook -i inventory/local.yml playbooks/remove.yml -e spin_submission="$EXAMPLE"
        ;;
    *)
        sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
esac
