#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_config_render
short_description: The file task of the role apiauth.saas.app_config
version_added: 0.1.0
description:
  - Renders the files of the role C(apiauth.saas.app_config) on a host. Use the role; this module is the role's file
    task, and reads the role's variables (C(app_config_files), C(app_config_owner), C(app_config_group),
    C(app_config_mode), C(app_config_backup) and the service variables), documented in the role's argument spec
    (C(ansible-doc -t role apiauth.saas.app_config)). A task takes no options; the two below are its action
    plugin's, which hands the host the rendered files.
  - First it checks those variables with the filter P(apiauth.saas.app_config_problems#filter), and fails before
    writing anything when one is refused. The message names the option, the file and the key, never a value.
    The credentials are checked as C(app_config_secrets), the values the role fetched once; C(app_config_credentials)
    is not templated, as that would run its lookups again on every host.
  - Then it renders every file on the controller, with Ansible's template engine and the entry as the variable
    C(item) (the C(ansible.builtin.template) lookup), and writes them all on the host in one module run, instead
    of the two that M(ansible.builtin.template) runs per file (a C(stat), then a C(copy)).
  - A file whose content changed is written whole or not at all, it is never written through a symbolic link, and
    it never shows its content to others. It goes to a new temporary file in the same directory, created with mode
    0600. Then, on that temporary file, it gets its owner, group and mode, C(validate) runs on it, and it is renamed
    over the old file. A symbolic link at C(dest) is replaced by the file, as M(ansible.builtin.template) does. The
    backup (C(backup)) is created 0600, then given the old file's mode, so it is never more open than the old file.
    A file whose content is the same only gets the owner, group and mode it lacks.
  - The result never holds a file's content. Per file, it keeps the path, whether the file changed, its backup,
    owner, group and mode, and, on a failure, the message and the output of C(validate), with every credential and
    every value of the file's data masked. There is no content diff, and no checksum (a hash of the content).
    The task therefore needs no C(no_log), and a refusal can be read in a C(rescue).
  - Every file is attempted; the task fails when any file failed, naming each.
author:
  - apiauth.saas maintainers (@apiauth)
options:
  _files:
    description:
      - Internal, set by the module's action plugin from C(app_config_files) and the role's defaults; a task that
        gives it (or any option) is refused. Per file, its path, mode, owner, group, backup and validate.
    type: list
    elements: dict
  _contents:
    description:
      - Internal, set by the module's action plugin. The rendered content of each file of O(_files), in order.
        Ansible never logs it (C(no_log)).
    type: list
    elements: str
attributes:
  check_mode:
    description: A file that would change (content, owner, group or mode) is reported as changed; nothing is written.
    support: full
  diff_mode:
    description: A content diff would show the credentials. The role lists the files that changed instead.
    support: none
notes:
  - C(mode) takes the octal or the symbolic forms of C(ansible.builtin.file). An empty mode keeps an existing file's
    mode and gives a new file 0600, which is also the base of a symbolic mode for a new file.
  - A C(dest) that is a directory, a FIFO, a socket or a device is refused, as is a C(dest) whose directory does not
    exist.
seealso:
  - module: ansible.builtin.template
  - plugin: apiauth.saas.app_config_problems
    plugin_type: filter
"""

EXAMPLES = r"""
# A play uses the role apiauth.saas.app_config, which fetches the credentials once into app_config_secrets and then
# runs this module. The same two steps by hand, with the role's variables (`make demo` defines the simulator's):
- name: Fetch the credentials once, on the controller
  ansible.builtin.set_fact:
    app_config_secrets:
      throughline: >-
        {{ lookup('apiauth.saas.throughline_token', client_id=throughline_client_id,
                  client_secret=throughline_client_secret, token_url=throughline_token_url, ca_path=sim_ca_path) }}
  run_once: true
  no_log: true

- name: Render the files of app_config_files
  apiauth.saas.app_config_render: {}
  vars:
    app_config_files:
      - dest: "{{ app_dir }}/app.env"
        format: dotenv
        mode: "0600"
        data:
          THROUGHLINE_TOKEN: "{{ app_config_secrets.throughline }}"
  register: app_config_results

- name: Show which files changed (the result holds no content)
  ansible.builtin.debug:
    msg: "{{ app_config_results.results | selectattr('changed') | map(attribute='item.dest') | list }}"
"""

RETURN = r"""
results:
  description: One result per entry of C(app_config_files), in order, without content.
  returned: when the options were accepted
  type: list
  elements: dict
  contains:
    item:
      description: The entry's C(dest), as a loop's C(item) would give it.
      type: dict
      sample: {dest: /etc/reporting/reporting.env}
    changed:
      description: Whether the file changed (in check mode, whether it would).
      type: bool
    failed:
      description: Whether writing this file failed.
      type: bool
      returned: when it failed
    msg:
      description: Why it failed, with every credential and value of the file's data masked.
      type: str
      returned: when it failed
    backup_file:
      description: The backup made of the file before it changed.
      type: str
      returned: when a backup was made
      sample: /etc/reporting/reporting.env.12345.2026-12-07@00:00:00~
msg:
  description: How many files were rendered and changed, or, when the task failed, why.
  returned: always
  type: str
  sample: "2 file(s) rendered, 1 changed."
"""

import grp
import os
import pwd
import re
import shutil
import stat
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.apiauth.saas.plugins.module_utils._fileio import atomic_write, open_regular, read_limited

OCTAL_MODE = re.compile(r"^0?[0-7]{3,4}$")
# A new file without a mode: it holds credentials, so it is the owner's alone.
NEW_FILE_MODE = stat.S_IFREG | 0o600


class FileProblem(Exception):
    """One file cannot be written; the message names what to fix, never a value of its content."""


class ValidateRefused(Exception):
    """The file's validate command refused the new content; the old file stays."""

    def __init__(self, rc: int, out: str, err: str) -> None:
        super().__init__(rc)
        self.rc, self.out, self.err = rc, out, err


def _read(dest: str) -> tuple:
    """(lstat result or None, current content or None): a link or a missing file has no content to compare."""
    try:
        info = os.lstat(dest)
    except FileNotFoundError:
        return None, None
    if stat.S_ISLNK(info.st_mode):
        return info, None
    if stat.S_ISDIR(info.st_mode):
        raise FileProblem("is a directory; dest must name a file.")
    if not stat.S_ISREG(info.st_mode):
        raise FileProblem("is not a regular file (a FIFO, a socket or a device); dest must name a file.")
    try:
        fd = open_regular(dest, follow_links=False)
    except OSError:
        # Replaced since the lstat, or unreadable: write it anew.
        return info, None
    try:
        return os.fstat(fd), read_limited(fd, 64 * 2**20)
    finally:
        os.close(fd)


def _ids(spec: dict) -> tuple:
    """(uid, gid) asked for, -1 for either not asked for (os.chown leaves it alone)."""
    found = []
    for key, lookup, field in (("owner", pwd.getpwnam, "pw_uid"), ("group", grp.getgrnam, "gr_gid")):
        name = spec.get(key)
        if name is None or name == "":
            found.append(-1)
        elif isinstance(name, int) or str(name).isdigit():
            found.append(int(name))
        else:
            try:
                found.append(getattr(lookup(str(name)), field))
            except KeyError:
                raise FileProblem(f"chown failed: failed to look up {'user' if key == 'owner' else 'group'} {name}")
    return tuple(found)


def _mode(spec: dict, current) -> int | None:
    """The mode asked for as a number, from its octal or symbolic form; None to keep the current one."""
    mode = spec.get("mode")
    if isinstance(mode, int) and not isinstance(mode, bool):
        return mode  # an unquoted 0640 in YAML, already a number
    mode = "" if mode is None else str(mode)
    if not mode:
        return None
    if OCTAL_MODE.match(mode):
        return int(mode, 8)
    if mode == "preserve":
        raise FileProblem("mode preserve is not supported: give the mode, quoted, such as '0600'.")
    try:
        # A new file's symbolic mode applies to 0600, the mode it is created with.
        return AnsibleModule._symbolic_mode_to_octal(current or os.stat_result((NEW_FILE_MODE,) + (0,) * 9), mode)
    except ValueError:
        raise FileProblem(f"mode {mode} is neither octal ('0640') nor symbolic ('u=rw,g=r').")


def _backup(dest: str, info: os.stat_result) -> str:
    """A copy of the old file beside it, named as Ansible names backups, never more open than the old file."""
    backup = f"{dest}.{os.getpid()}.{time.strftime('%Y-%m-%d@%H:%M:%S~', time.localtime())}"
    source = open_regular(dest, follow_links=False)
    with os.fdopen(source, "rb") as reader:
        target = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(target, "wb") as writer:
            shutil.copyfileobj(reader, writer)
            writer.flush()
            os.fchmod(target, stat.S_IMODE(info.st_mode))
            try:
                os.fchown(target, info.st_uid, info.st_gid)
            except PermissionError:
                pass  # not root: the backup is this user's, as the file it copies was written by this user
    return backup


def _selinux(module: AnsibleModule, path: str, dest: str, existed: bool) -> None:
    if module.selinux_enabled():
        context = module.selinux_context(dest) if existed else module.selinux_default_context(dest)
        module.set_context_if_different(path, context, False)


def write_file(module: AnsibleModule, spec: dict, content: bytes) -> dict:
    """Write one file of app_config_files on this host; the result holds no content."""
    dest = spec["dest"]
    result = {"dest": dest, "changed": False}
    directory = os.path.dirname(dest)
    if not os.path.isdir(directory):
        raise FileProblem(f"Destination directory {directory} does not exist.")
    info, current = _read(dest)
    uid, gid = _ids(spec)
    regular = info is not None and stat.S_ISREG(info.st_mode)
    mode = _mode(spec, info if regular else None)
    if current == content:
        wanted_mode = mode if mode is not None else stat.S_IMODE(info.st_mode)
        result["changed"] = (wanted_mode != stat.S_IMODE(info.st_mode) or uid not in (-1, info.st_uid)
                             or gid not in (-1, info.st_gid))
        if result["changed"] and not module.check_mode:
            os.chown(dest, uid, gid, follow_symlinks=False)
            os.chmod(dest, wanted_mode)
        return result
    result["changed"] = True
    if module.check_mode:
        return result
    validate = spec.get("validate")
    if validate and "%s" not in validate:
        raise FileProblem(f"validate must contain %s: {validate}")
    if mode is None:
        mode = stat.S_IMODE(info.st_mode) if regular else stat.S_IMODE(NEW_FILE_MODE)

    def settle(tmp: str) -> None:
        """On the temporary file, before anyone can see it: owner, mode, context, validate, then the backup."""
        # Owner first: a chown clears the setuid and setgid bits that a mode may ask for.
        os.chown(tmp, uid, gid)
        os.chmod(tmp, mode)
        _selinux(module, tmp, dest, regular)
        if validate:
            rc, out, err = module.run_command(validate % tmp)
            if rc != 0:
                raise ValidateRefused(rc, out, err)
        if regular and spec.get("backup"):
            result["backup_file"] = _backup(dest, info)

    try:
        atomic_write(dest, content, before_rename=settle)
    except ValidateRefused as refused:
        result.update(failed=True, msg="failed to validate", exit_status=refused.rc, stdout=refused.out,
                      stderr=refused.err)
    return result


def _attributes(dest: str) -> dict:
    """What Ansible's file modules return of a file: its mode, owner and group."""
    try:
        info = os.lstat(dest)
    except OSError:
        return {}
    found = {"mode": f"{stat.S_IMODE(info.st_mode):04o}", "uid": info.st_uid, "gid": info.st_gid, "state": "file"}
    for key, lookup, number in (("owner", pwd.getpwuid, info.st_uid), ("group", grp.getgrgid, info.st_gid)):
        try:
            found[key] = lookup(number)[0]
        except KeyError:
            found[key] = str(number)
    return found


def main() -> None:
    # Run by the action plugin of the same name, which renders the files on the controller: the options start with
    # an underscore, as they are not the user's (the task itself takes none). The contents are no_log, so Ansible
    # masks them in the invocation and in what it logs on the host.
    module = AnsibleModule(
        argument_spec={
            "_files": {"type": "list", "elements": "dict"},
            "_contents": {"type": "list", "elements": "str", "no_log": True},
        },
        supports_check_mode=True,
    )
    specs, contents = module.params["_files"], module.params["_contents"]
    if specs is None or contents is None or len(specs) != len(contents):
        module.fail_json(msg="apiauth.saas.app_config_render: run it as a task, never as a module on its own.")
    results = []
    for spec, content in zip(specs, contents):
        try:
            result = write_file(module, spec, content.encode("utf-8", "surrogateescape"))
        except FileProblem as exc:
            result = {"dest": spec["dest"], "changed": False, "failed": True, "msg": str(exc)}
        except OSError as exc:
            result = {"dest": spec["dest"], "changed": False, "failed": True,
                      "msg": f"{exc.strerror or exc}: {exc.filename or spec['dest']}"}
        if not result.get("failed") and not module.check_mode:
            result.update(_attributes(spec["dest"]))
        results.append(result)
    module.exit_json(changed=any(result["changed"] for result in results), results=results)


if __name__ == "__main__":
    main()
