#!/usr/bin/env bash
# Run ansible-test against this collection.
#
#   bash tests/ansible_test.sh sanity [extra ansible-test args...]
#   bash tests/ansible_test.sh units  [extra ansible-test args...]
#
# ansible-test only runs from a real .../ansible_collections/<namespace>/<name>/
# directory (it refuses a symlink), so every run copies the files git knows about
# (tracked, plus untracked ones that .gitignore does not exclude) into a fresh
# $APIAUTH_ANSIBLE_TEST_DIR/ansible_collections/apiauth/saas/ and runs there.
# That directory must not be inside a git work tree: ansible-test walks up to the
# first directory holding .git and lists the content with git, which would see
# nothing of an ignored copy (all targets skipped). So the default lies outside
# this repository. Results are copied back to tests/output/ (ignored by git).
#
# ansible-test bootstraps pip in its virtual environments with a get-pip.py it
# downloads from a host that is not a package registry; this script installs
# tests/getpip_standin.py in ansible-test's cache so nothing is downloaded
# except packages from the package index that pip is configured to use.
#
# Environment:
#   APIAUTH_ANSIBLE_TEST_DIR  where the copy goes
#                             (default: ${TMPDIR:-/tmp}/apiauth-saas-ansible-test-<uid>-<checksum of repo path>)
#   APIAUTH_TEST_PYTHON       Python version for --python (default: the version ansible-test runs with)
#   APIAUTH_ANSIBLE_TEST_ENV  --venv (default), --local or --docker ...
#   ANSIBLE_TEST              ansible-test executable (default: from PATH)
set -euo pipefail

usage() {
    echo "usage: $0 sanity|units [ansible-test arguments...]" >&2
    exit 2
}

[[ $# -ge 1 ]] || usage
command=$1
shift
case "$command" in
    sanity|units) ;;
    -h|--help) usage ;;
    *) echo "$0: unsupported command '$command'" >&2; usage ;;
esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEFAULT_WORK=${TMPDIR:-/tmp}/apiauth-saas-ansible-test-$(id -u)-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)
WORK=${APIAUTH_ANSIBLE_TEST_DIR:-$DEFAULT_WORK}
case "$WORK" in /*) ;; *) WORK=$PWD/$WORK ;; esac
NAMESPACE=$(sed -n 's/^namespace:[[:space:]]*\([A-Za-z0-9_]*\).*/\1/p' "$ROOT/galaxy.yml")
NAME=$(sed -n 's/^name:[[:space:]]*\([A-Za-z0-9_]*\).*/\1/p' "$ROOT/galaxy.yml")
DEST=$WORK/ansible_collections/$NAMESPACE/$NAME
ENV_OPT=${APIAUTH_ANSIBLE_TEST_ENV:---venv}
ANSIBLE_TEST=${ANSIBLE_TEST:-$(command -v ansible-test || true)}

if [[ -z "$ANSIBLE_TEST" || ! -x "$ANSIBLE_TEST" ]]; then
    echo "$0: ansible-test not found; run 'make venv' and put .venv/bin first on PATH" >&2
    exit 2
fi

log() { echo "==> $*" >&2; }

# Refuse a copy location below a git work tree (see the top of this file).
check_work_dir() {
    local dir=$WORK
    while :; do
        if [[ -e "$dir/.git" ]]; then
            echo "$0: $WORK is inside the git work tree $dir; ansible-test would skip every target." >&2
            echo "$0: set APIAUTH_ANSIBLE_TEST_DIR to a directory outside any git repository." >&2
            exit 2
        fi
        [[ "$dir" == / || -z "$dir" ]] && break
        dir=$(dirname "$dir")
    done
}

# The interpreter ansible-test runs with (its shebang), to locate ansible_test.
AT_PYTHON=$(head -n1 "$ANSIBLE_TEST" | sed -n 's/^#![[:space:]]*//p' | awk '{print $1}')
if [[ "$AT_PYTHON" == */env ]]; then
    AT_PYTHON=$(head -n1 "$ANSIBLE_TEST" | awk '{print $2}')
fi
[[ -n "$AT_PYTHON" ]] && command -v "$AT_PYTHON" >/dev/null 2>&1 || AT_PYTHON=$(dirname "$ANSIBLE_TEST")/python
command -v "$AT_PYTHON" >/dev/null 2>&1 || AT_PYTHON=python3
# Without --python, ansible-test tries every Python that PATH names, and pyenv's shims of
# versions not enabled exit 127; the interpreter ansible-test runs with is always there.
PYVER=${APIAUTH_TEST_PYTHON:-$("$AT_PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')}

# --- 1. get-pip stand-in in ansible-test's cache --------------------------------
install_getpip_standin() {
    local at_dir req versions version cache target
    at_dir=$("$AT_PYTHON" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')
    req=$at_dir/_internal/python_requirements.py
    # Every pip version ansible-test may bootstrap (the default plus per-Python overrides).
    versions=$(grep -oE "pip='[0-9][0-9A-Za-z.]*'" "$req" | sed -E "s/pip='(.*)'/\1/" | sort -u || true)
    if [[ -z "$versions" ]]; then
        echo "$0: cannot find the pip version in $req" >&2
        exit 2
    fi
    cache=${HOME}/.ansible/test/cache
    mkdir -p "$cache"
    for version in $versions; do
        target=$cache/get_pip_${version//./_}.py
        if ! cmp -s "$ROOT/tests/getpip_standin.py" "$target"; then
            cp "$ROOT/tests/getpip_standin.py" "$target.tmp.$$"
            mv -f "$target.tmp.$$" "$target"
            log "installed get-pip stand-in for pip $version: $target"
        fi
    done
}

# --- 2. fresh copy of the collection under a real ansible_collections path ------
list_files() {
    cd "$ROOT"
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -z -co --exclude-standard
    else
        find . \( -name .git -o -name .venv -o -name '.venv-*' -o -name .tmp -o -name __pycache__ \) -prune \
            -o \( -type f -o -type l \) -print0 | sed -z 's|^\./||'
    fi
}

copy_collection() {
    # Keep the virtual environment ansible-test makes for --venv delegation
    # (it only holds pip), so a second run needs no network and starts fast.
    local keep=tests/output/.tmp/delegation saved=$WORK/.delegation-venvs
    rm -rf "$saved"
    if [[ -d "$DEST/$keep" ]]; then
        mv "$DEST/$keep" "$saved"
    fi
    rm -rf "$DEST"
    mkdir -p "$DEST"
    if [[ -d "$saved" ]]; then
        # A venv whose base interpreter went away (pyenv upgrade) is useless.
        local py
        for py in "$saved"/*/bin/python; do
            if [[ -e "$py" ]] && ! "$py" -c '' >/dev/null 2>&1; then
                rm -rf "$(dirname "$(dirname "$py")")"
            fi
        done
        mkdir -p "$DEST/$(dirname "$keep")"
        mv "$saved" "$DEST/$keep"
    fi
    # Drop environments, scratch space and test output; drop files deleted from
    # the work tree but still in the index (other people edit this tree).
    list_files \
        | grep -zvE '^(\.venv($|-|/)|\.tmp/|tests/output/|\.git/|\.ansible/|\.cache/)|(^|/)(__pycache__|\.[a-z]+_cache)/|\.pyc$|\.tar\.gz$' \
        | (cd "$ROOT" && while IFS= read -r -d '' f; do
               if [[ -e "$f" || -L "$f" ]]; then printf '%s\0' "$f"; fi
           done) \
        | (cd "$ROOT" && tar --null --no-recursion -T - -cf -) \
        | (cd "$DEST" && tar -xf -)
}

# ansible-test units installs tests/unit/requirements.txt into its venv. Until the
# tree has one, give the copy one made from requirements.txt and the test-only
# libraries of requirements-test.txt (not the tools: ansible-test pins its own
# pytest, and ansible-core is the one running this).
units_requirements() {
    local req=$DEST/tests/unit/requirements.txt file line name
    [[ -f "$req" || ! -d "$DEST/tests/unit" ]] && return 0
    {
        echo "# generated by tests/ansible_test.sh from requirements*.txt"
        for file in requirements.txt requirements-test.txt; do
            [[ -f "$DEST/$file" ]] || continue
            while IFS= read -r line || [[ -n "$line" ]]; do
                line=${line%%#*}
                line=${line%"${line##*[![:space:]]}"}
                [[ -z "$line" || "$line" == -* ]] && continue
                name=$(echo "$line" | sed -E 's/[[:space:]<>=!~;\[].*//' | tr 'A-Z_' 'a-z-')
                case "$name" in
                    ansible|ansible-core|ansible-lint|antsibull-*|pytest|pytest-*|mock) continue ;;
                esac
                echo "$line"
            done < "$DEST/$file"
        done
    } > "$req"
    log "no tests/unit/requirements.txt in the tree; the copy uses: $(grep -v '^#' "$req" | tr '\n' ' ')"
}

check_work_dir
mkdir -p "$WORK"
# One run at a time per copy location (each run rebuilds the copy).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$WORK/.lock"
    flock 9
fi
install_getpip_standin
copy_collection
if [[ "$command" == units ]]; then
    units_requirements
fi
log "copied $(cd "$DEST" && find . -path ./tests/output -prune -o -type f -print | wc -l) files to $DEST"

# --- 3. run ansible-test --------------------------------------------------------
args=("$command" "$ENV_OPT" --python "$PYVER" --color no)
args+=("$@")

cd "$DEST"
log "ansible-test ${args[*]}  (in $DEST)"
start=$SECONDS
rc=0
PYTHONDONTWRITEBYTECODE=1 "$ANSIBLE_TEST" "${args[@]}" </dev/null || rc=$?
log "ansible-test $command exited $rc after $((SECONDS - start))s"

# Keep the results next to the source (tests/output is ignored by git), without
# ansible-test's scratch space and venvs (tests/output/.tmp).
if [[ -d "$DEST/tests/output" ]]; then
    rm -rf "$ROOT/tests/output"
    mkdir -p "$ROOT/tests/output"
    (cd "$DEST/tests/output" && tar --exclude=./.tmp -cf - .) | (cd "$ROOT/tests/output" && tar -xf -)
fi

exit "$rc"
