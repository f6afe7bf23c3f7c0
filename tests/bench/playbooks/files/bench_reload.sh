#!/bin/sh
# Stand-in for a service reload in the benchmark (make bench, docs/benchmarks.md): run by
# ansible.builtin.command on a host whose config file changed, it appends one line to the log
# file given as its only argument. One module process plus one program per host, as
# ansible.builtin.service running systemctl.
set -eu
printf 'reload %s\n' "$$" >> "$1"
