#!/usr/bin/env bash
# Install the Debian packages named on the command line whose command is missing (the package and its
# command share a name: chromium, shellcheck), where this may: as root, with apt-get. A mirror that
# fails now and then gets three tries, 10 and 20 s apart. Exits 1, naming what is missing, when a
# package could not be installed; the callers decide whether that stops them.
set -uo pipefail

missing=()
for package in "$@"; do
    command -v "$package" >/dev/null 2>&1 || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "$0: not installed: ${missing[*]} (apt-get install ${missing[*]}, as root)" >&2
    exit 1
fi
for try in 1 2 3; do
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; then
        exit 0
    fi
    [ "$try" -lt 3 ] && { echo "$0: apt-get failed (try $try of 3); trying again" >&2; sleep $((try * 10)); }
done
echo "$0: could not install ${missing[*]} with apt-get" >&2
exit 1
