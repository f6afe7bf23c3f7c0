#!/usr/bin/env bash
# Build the collection tarball, install it into an empty collections directory
# and check that the installed copy (not this source tree) works.
#
#   bash tests/build_and_install.sh                 # build, install, check
#   bash tests/build_and_install.sh -- CMD ARGS...  # ... then run CMD against the installed copy
#
# Checks:
#   1. `ansible-galaxy collection build` succeeds and the tarball holds no
#      virtualenvs, scratch dirs, test output, tarballs, caches or bytecode,
#      and does hold every plugin file of the source tree;
#   2. `ansible-galaxy collection install` into a separate directory;
#   3. from the installed copy only: `ansible-doc -l`, `ansible-doc --json` and
#      the text rendering of every module and lookup found in its plugins/ dirs, an import of every
#      action and lookup plugin, and a playbook that calls every module with only a
#      bogus option (argument validation must reject it: this proves the module
#      and its action plugin resolve and load, without any network request).
#
# Environment:
#   APIAUTH_INSTALLED_COLLECTIONS  install into this directory (kept afterwards,
#       for integration tests that run playbooks against the installed copy:
#       ANSIBLE_COLLECTIONS_PATH=$APIAUTH_INSTALLED_COLLECTIONS). Default: a
#       temporary directory removed on exit.
#   APIAUTH_BUILD_KEEP=1           keep the temporary build directory.
#
# CMD after `--` runs from the repository root with ANSIBLE_COLLECTIONS_PATH and
# APIAUTH_INSTALLED_COLLECTIONS pointing at the installed copy; its exit status
# becomes this script's.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
hook=()
if [[ $# -gt 0 ]]; then
    if [[ "$1" != "--" ]]; then
        echo "usage: $0 [-- COMMAND [ARGS...]]" >&2
        exit 2
    fi
    shift
    hook=("$@")
fi

log() { echo "==> $*" >&2; }
fail() { echo "FAIL: $*" >&2; exit 1; }

for tool in ansible-galaxy ansible-doc ansible-playbook; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool not found; run 'make venv' and put .venv/bin first on PATH"
done

# The Python that runs Ansible (from ansible-playbook's shebang), for JSON checks and imports.
PY=$(head -n1 "$(command -v ansible-playbook)" | sed -n 's/^#![[:space:]]*//p' | awk '{print $1}')
if [[ "$PY" == */env ]]; then PY=$(head -n1 "$(command -v ansible-playbook)" | awk '{print $2}'); fi
command -v "$PY" >/dev/null 2>&1 || PY=python3

WORK=$(mktemp -d "${TMPDIR:-/tmp}/apiauth-saas-build.XXXXXX")
cleanup() {
    if [[ "${APIAUTH_BUILD_KEEP:-}" == 1 ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

NAMESPACE=$(sed -n 's/^namespace:[[:space:]]*\([A-Za-z0-9_]*\).*/\1/p' "$ROOT/galaxy.yml")
NAME=$(sed -n 's/^name:[[:space:]]*\([A-Za-z0-9_]*\).*/\1/p' "$ROOT/galaxy.yml")
FQ=$NAMESPACE.$NAME

if [[ -n "${APIAUTH_INSTALLED_COLLECTIONS:-}" ]]; then
    INSTALLED=$APIAUTH_INSTALLED_COLLECTIONS
    case "$INSTALLED" in /*) ;; *) INSTALLED=$PWD/$INSTALLED ;; esac
else
    INSTALLED=$WORK/collections
fi
INSTALLED_COLLECTION=$INSTALLED/ansible_collections/$NAMESPACE/$NAME

# Only the installed copy may be visible: no source tree, no site-packages collections.
export ANSIBLE_COLLECTIONS_PATH=$INSTALLED
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
unset ANSIBLE_COLLECTIONS_PATHS ANSIBLE_CONFIG
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
export PYTHONDONTWRITEBYTECODE=1

# --- 1. build ---------------------------------------------------------------------
log "building $FQ from $ROOT"
mkdir -p "$WORK/build"
ansible-galaxy collection build "$ROOT" --output-path "$WORK/build" --force </dev/null
shopt -s nullglob
tarballs=("$WORK"/build/*.tar.gz)
shopt -u nullglob
[[ ${#tarballs[@]} -eq 1 ]] || fail "expected one tarball in $WORK/build, found ${#tarballs[@]}"
TARBALL=${tarballs[0]}
log "built $(basename "$TARBALL") ($(du -k "$TARBALL" | cut -f1) KiB)"

tar -tzf "$TARBALL" | sed 's|^\./||' | sort > "$WORK/contents.txt"
leaks=$(grep -E '(^|/)(\.venv(-[^/]*)?|\.tmp|__pycache__|\.pytest_cache|\.mypy_cache|\.ruff_cache|\.git|\.ansible|\.cache)(/|$)|^tests/output(/|$)|\.tar\.gz$|\.py[co]$' "$WORK/contents.txt" || true)
if [[ -n "$leaks" ]]; then
    echo "$leaks" | head -40 >&2
    fail "the tarball holds files that must not ship ($(echo "$leaks" | wc -l) paths; fix build_ignore in galaxy.yml)"
fi
# Nor the developer's tooling (galaxy.yml says why).
tooling=$(grep -E '^(tests|extensions/molecule|\.ci|changelogs/fragments)(/|$)|^(Makefile|requirements-test\.txt|pytest\.ini|\.ansible-lint|docs/benchmarks\.json|docs/docsite/[^/]*\.py)$' "$WORK/contents.txt" || true)
if [[ -n "$tooling" ]]; then
    echo "$tooling" | head -40 >&2
    fail "the tarball holds developer tooling ($(echo "$tooling" | wc -l) paths; see build_ignore in galaxy.yml)"
fi
for required in MANIFEST.json FILES.json meta/runtime.yml LICENSE README.md CHANGELOG.rst changelogs/changelog.yaml \
        requirements.txt bindep.txt meta/execution-environment.yml docs/docsite/extra-docs.yml docs/docsite/links.yml \
        execution-environment/execution-environment.yml; do
    grep -qx "$required" "$WORK/contents.txt" || fail "the tarball lacks $required"
done
# Every plugin file of the source tree (tracked or new, not ignored) must ship.
source_files() {
    cd "$ROOT"
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -co --exclude-standard -- plugins meta roles playbooks extensions/awx docs/docsite/rst
    else
        find plugins meta roles playbooks extensions/awx docs/docsite/rst -type f
    fi
}
missing=$(source_files | while IFS= read -r f; do
    if [[ -f "$ROOT/$f" ]] && ! grep -qxF "$f" "$WORK/contents.txt"; then echo "$f"; fi
done)
if [[ -n "$missing" ]]; then
    echo "$missing" >&2
    fail "the tarball lacks files of the source tree that users need (build_ignore too broad?)"
fi
log "tarball contents OK ($(wc -l < "$WORK/contents.txt") entries, nothing that must not ship)"

# --- 2. install into a separate collections directory -------------------------------
rm -rf "$INSTALLED_COLLECTION"
mkdir -p "$INSTALLED"
log "installing into $INSTALLED"
ansible-galaxy collection install "$TARBALL" -p "$INSTALLED" --force </dev/null
[[ -f "$INSTALLED_COLLECTION/MANIFEST.json" && ! -L "$INSTALLED_COLLECTION" ]] \
    || fail "ansible-galaxy installed nothing at $INSTALLED_COLLECTION"

# --- 3. checks against the installed copy --------------------------------------------
cd "$WORK"

plugin_names() {  # plugin_names DIR -> public plugin names of one-file-per-plugin DIR
    local dir=$INSTALLED_COLLECTION/plugins/$1 f base
    [[ -d "$dir" ]] || return 0
    for f in "$dir"/*.py; do
        [[ -e "$f" ]] || continue
        base=$(basename "$f" .py)
        [[ "$base" == _* ]] && continue
        echo "$base"
    done
}

modules=$(plugin_names modules)
lookups=$(plugin_names lookup)
actions=$(plugin_names action)
other_types="callback connection inventory become cache vars"

# ansible-doc -l must list exactly what the installed plugins/ dirs hold.
check_list() {  # check_list TYPE EXPECTED_NAMES
    local type=$1 expected=$2 listed
    listed=$(ansible-doc -t "$type" -l "$FQ" --json </dev/null \
        | "$PY" -c 'import json,sys; print("\n".join(sorted(json.load(sys.stdin))))')
    expected=$(for n in $expected; do echo "$FQ.$n"; done | sort)
    if [[ "$listed" != "$expected" ]]; then
        echo "expected:" >&2; echo "${expected:-  (none)}" >&2
        echo "ansible-doc -t $type -l $FQ listed:" >&2; echo "${listed:-  (none)}" >&2
        fail "ansible-doc does not list the installed $type plugins"
    fi
}

# ansible-doc --json must return the plugin's documentation, read from the installed copy.
check_doc() {  # check_doc TYPE NAME
    local type=$1 name=$2
    ansible-doc -t "$type" --json "$FQ.$name" </dev/null > "$WORK/doc.json" 2> "$WORK/doc.err" || {
        cat "$WORK/doc.err" >&2
        echo "FAIL: ansible-doc -t $type --json $FQ.$name exited non-zero" >&2
        return 1
    }
    # The text rendering checks more than --json (e.g. that descriptions are strings).
    ansible-doc -t "$type" "$FQ.$name" </dev/null > "$WORK/doc.txt" 2> "$WORK/doc.err" || {
        cat "$WORK/doc.err" >&2
        echo "FAIL: ansible-doc -t $type $FQ.$name cannot render the documentation" >&2
        return 1
    }
    if ! grep -q . "$WORK/doc.txt"; then
        cat "$WORK/doc.err" >&2
        echo "FAIL: ansible-doc -t $type $FQ.$name printed nothing" >&2
        return 1
    fi
    "$PY" - "$WORK/doc.json" "$FQ.$name" "$type" "$INSTALLED_COLLECTION" "$WORK/doc.err" <<'EOF'
import json, os, sys

path, fqcn, plugin_type, installed, errfile = sys.argv[1:]
with open(path) as f:
    data = json.load(f)
entry = data.get(fqcn) or {}
doc = entry.get('doc') or {}
problems = []
if not doc:
    problems.append('no documentation in the JSON')
else:
    if not doc.get('short_description'):
        problems.append('no short_description')
    if not doc.get('description'):
        problems.append('no description')
    filename = os.path.realpath(doc.get('filename') or '')
    if not filename.startswith(os.path.realpath(installed) + os.sep):
        problems.append('documentation read from %r, not from the installed copy' % filename)
    if not entry.get('examples'):
        problems.append('no EXAMPLES')
    if plugin_type == 'module' and not entry.get('return'):
        problems.append('no RETURN')
if problems:
    with open(errfile) as f:
        sys.stderr.write(f.read())
    sys.stderr.write('FAIL: ansible-doc -t %s --json %s: %s\n' % (plugin_type, fqcn, '; '.join(problems)))
    sys.exit(1)
print('    %s %s: %s' % (plugin_type, fqcn, doc['short_description']))
EOF
}

if [[ -z "$modules" && -z "$lookups" ]]; then
    log "SKIP: the installed copy has no modules and no lookup plugins yet" \
        "(plugins/modules and plugins/lookup are empty); only the build and install were checked"
else
    log "ansible-doc from the installed copy"
    check_list module "$modules"
    check_list lookup "$lookups"
    bad_docs=0
    for n in $modules; do check_doc module "$n" || bad_docs=$((bad_docs + 1)); done
    for n in $lookups; do check_doc lookup "$n" || bad_docs=$((bad_docs + 1)); done
    for type in $other_types; do
        names=$(plugin_names "$type")
        [[ -n "$names" ]] || continue
        check_list "$type" "$names"
        for n in $names; do check_doc "$type" "$n" || bad_docs=$((bad_docs + 1)); done
    done
    [[ $bad_docs -eq 0 ]] || fail "$bad_docs plugin(s) of the installed copy have broken documentation (see above)"

    # Import every action and lookup plugin through Ansible's plugin loader.
    log "loading plugins from the installed copy"
    "$PY" - "$FQ" "$INSTALLED_COLLECTION" "$actions" "$lookups" <<'EOF'
import os, sys

from ansible.plugins.loader import action_loader, init_plugin_loader, lookup_loader

fqcn, installed, actions, lookups = sys.argv[1:]
init_plugin_loader()
failed = False
for kind, loader, names in (('action', action_loader, actions), ('lookup', lookup_loader, lookups)):
    for name in names.split():
        full = '%s.%s' % (fqcn, name)
        try:
            found = loader.find_plugin(full)
            plugin = loader.get(full, class_only=True)
        except Exception as exc:  # report every failure, then fail
            print('FAIL: %s plugin %s does not load: %s: %s' % (kind, full, type(exc).__name__, exc), file=sys.stderr)
            failed = True
            continue
        path = os.path.realpath(found or '')
        if plugin is None or not path.startswith(os.path.realpath(installed) + os.sep):
            print('FAIL: %s plugin %s not loaded from the installed copy (%r)' % (kind, full, path), file=sys.stderr)
            failed = True
            continue
        print('    %s %s: %s' % (kind, full, os.path.relpath(path, installed)))
sys.exit(1 if failed else 0)
EOF

    if [[ -n "$modules" ]]; then
        # Every module, called with a bogus option and nothing else, must be
        # rejected by argument validation (unsupported or missing options): that proves it resolves and loads (with its action plugin)
        # from the installed copy. No request leaves the machine.
        log "playbook against the installed copy"
        {
            echo "---"
            echo "- name: Load every module of $FQ from the installed copy"
            echo "  hosts: localhost"
            echo "  connection: local"
            echo "  gather_facts: false"
            echo "  tasks:"
            for n in $modules; do
                echo "    - name: Call $FQ.$n with an option it does not have"
                echo "      $FQ.$n:"
                echo "        apiauth_build_check_no_such_option: true"
                echo "      register: result_$n"
                echo "      ignore_errors: true"
                echo "    - name: Argument validation of $FQ.$n rejected it"
                echo "      ansible.builtin.assert:"
                echo "        that:"
                echo "          - result_$n is failed"
                echo "          - result_$n.msg is search('(?i)unsupported parameters|missing required argument|apiauth_build_check_no_such_option|one of the following is required')"
                echo "        fail_msg: \"unexpected result: {{ result_$n }}\""
            done
        } > "$WORK/load.yml"
        ansible-playbook -i localhost, "$WORK/load.yml" </dev/null > "$WORK/playbook.log" 2>&1 || {
            cat "$WORK/playbook.log" >&2
            fail "the playbook against the installed copy failed"
        }
        grep -E '^localhost' "$WORK/playbook.log" >&2 || true
    fi
    log "installed copy OK: modules: ${modules//$'\n'/ } | lookups: ${lookups//$'\n'/ }"
fi

if [[ ${#hook[@]} -gt 0 ]]; then
    export APIAUTH_INSTALLED_COLLECTIONS=$INSTALLED
    log "running against the installed copy (ANSIBLE_COLLECTIONS_PATH=$INSTALLED): ${hook[*]}"
    cd "$ROOT"
    rc=0
    "${hook[@]}" || rc=$?
    exit "$rc"
fi
log "build and install checks passed"
