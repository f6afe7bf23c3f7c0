#!/usr/bin/env bash
# Print the path of a Python interpreter whose version is one of the given ones (newest first),
# after RUNNING it: a pyenv shim of a version that is not enabled is on PATH but exits 127.
#
#   bash tests/find_python.sh 3.13 3.12      -> /root/.pyenv/versions/3.13.0/bin/python3
#
# Looks at pythonX.Y on PATH (Debian 13 images), then at every pyenv root it can find ($PYENV_ROOT,
# `pyenv root`, ~/.pyenv: CI may run without pyenv on PATH), then at python3 itself.
# Exits 1 with a message that says what to install when none runs; never prints a wrong one.
set -uo pipefail

[[ $# -ge 1 ]] || { echo "usage: $0 X.Y [X.Y...]" >&2; exit 2; }

works() {  # works PATH X.Y: the interpreter runs, is that version, and has venv
    local py=$1 want=$2 got
    [[ -x "$py" ]] || return 1
    got=$("$py" -c 'import sys, venv; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || return 1
    [[ "$got" == "$want" ]]
}

roots=()
[[ -n "${PYENV_ROOT:-}" ]] && roots+=("$PYENV_ROOT")
if command -v pyenv >/dev/null 2>&1; then
    r=$(pyenv root 2>/dev/null) && [[ -n "$r" ]] && roots+=("$r")
fi
[[ -n "${HOME:-}" ]] && roots+=("$HOME/.pyenv")
# Each root once (PYENV_ROOT is usually ~/.pyenv too).
mapfile -t roots < <(printf '%s\n' "${roots[@]}" | awk 'NF && !seen[$0]++')

for want in "$@"; do
    candidates=()
    p=$(command -v "python$want" 2>/dev/null) && candidates+=("$p")
    candidates+=("/usr/bin/python$want" "/usr/local/bin/python$want")
    for root in "${roots[@]}"; do
        # Newest patch release first (3.13.10 after 3.13.9: version sort).
        while IFS= read -r d; do
            [[ -d "$d" ]] && candidates+=("$d/bin/python$want" "$d/bin/python3")
        done < <(printf '%s\n' "$root/versions/$want".* | sort -rV)
    done
    p=$(command -v python3 2>/dev/null) && candidates+=("$p")
    for py in "${candidates[@]}"; do
        if works "$py" "$want"; then
            echo "$py"
            exit 0
        fi
    done
done

echo "$0: no working Python $* found (tried python$1 on PATH, pyenv under ${roots[*]:-no pyenv root}, python3)." >&2
echo "$0: install one (apt-get install python$1 python$1-venv where Debian has it, or pyenv install $1);" \
     "for ansible-core 2.20 and 2.21, make also takes PYTHON_NEW=/path/to/python3.X." >&2
exit 1
