"""Offline stand-in for the ``get-pip.py`` bootstrap script that ansible-test uses.

ansible-test creates its virtual environments with ``--without-pip`` and then
bootstraps pip by running ``get-pip-<version>.py``, which it downloads from a
host that is not a package registry. Before downloading it looks for a cached
copy at ``~/.ansible/test/cache/get_pip_<version>.py``; ``tests/ansible_test.sh``
installs this file there.

ansible-test runs the script as ``__main__`` with ``sys.argv[1:]`` holding
pip install arguments (``--disable-pip-version-check pip==24.2``) plus the
get-pip-only switches ``--no-setuptools`` / ``--no-wheel``. This stand-in:

1. installs the pip wheel bundled with the running Python (``ensurepip``, no
   network), in a child process: ensurepip sets ``PIP_CONFIG_FILE=/dev/null``
   and drops ``PIP_*`` variables, which must not leak into step 2;
2. runs ``python -m pip install --upgrade <args>`` with the untouched
   environment, so the machine's pip configuration (CA bundle, index, local
   wheel directories) applies;
3. mirrors get-pip's handling of setuptools and wheel.
"""

import os
import subprocess
import sys

GET_PIP_ONLY = ('--no-setuptools', '--no-wheel', '--no-pip')


def _run(cmd, env):
    """Run a command quietly; on failure show its output and exit with its status."""
    sys.stderr.write('getpip-standin: %s\n' % ' '.join(cmd))
    sys.stderr.flush()
    result = subprocess.run(
        cmd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        check=False,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout.decode('utf-8', 'replace'))
        sys.stderr.write('getpip-standin: command failed with status %d\n' % result.returncode)
        sys.exit(result.returncode)


def _installed(name, env):
    """Return True when a distribution is importable in this interpreter."""
    code = 'import importlib.metadata as m, sys; m.version(sys.argv[1])'
    result = subprocess.run(
        [sys.executable, '-c', code, name],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return result.returncode == 0


def _names(specs):
    """Lower-cased project names of requirement specifiers."""
    names = set()
    for spec in specs:
        name = spec
        for sep in '<>=!~;[ @':
            name = name.split(sep, 1)[0]
        names.add(name.strip().lower().replace('_', '-'))
    return names


def main(argv):
    env = dict(os.environ)
    args = list(argv)
    no_setuptools = '--no-setuptools' in args
    no_wheel = '--no-wheel' in args
    pip_args = [arg for arg in args if arg not in GET_PIP_ONLY]
    packages = [arg for arg in pip_args if not arg.startswith('-')]
    wanted = _names(packages)

    # get-pip installs setuptools and wheel unless told not to.
    if not no_setuptools and 'setuptools' not in wanted:
        pip_args.append('setuptools')
    if not no_wheel and 'wheel' not in wanted:
        pip_args.append('wheel')
    if 'pip' not in wanted:
        pip_args.append('pip')

    if not _installed('pip', env):
        _run([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'], dict(env))

    _run([sys.executable, '-m', 'pip', 'install', '--upgrade'] + pip_args, dict(env))

    # Python < 3.12's ensurepip also installs setuptools; get-pip would not have.
    if no_setuptools and 'setuptools' not in wanted and _installed('setuptools', env):
        _run([sys.executable, '-m', 'pip', 'uninstall', '--yes', '--disable-pip-version-check', 'setuptools'], dict(env))


if __name__ == '__main__':
    main(sys.argv[1:])
