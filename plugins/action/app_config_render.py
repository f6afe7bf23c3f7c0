# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of apiauth.saas.app_config_render: the file task of the role apiauth.saas.app_config.

It reads the role's variables, checks them (the filter app_config_problems),
renders every file on the controller with Ansible's template lookup (the
template engine, search path and variables of ansible.builtin.template), then
writes them all on the host in one run of its module. ansible.builtin.template
runs two modules per file (stat, then copy), each a Python process on the host,
and they are most of a play's cost per host (docs/benchmarks.md). The result
never holds a file's content, so the task needs no no_log and a refusal can be
read.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.release import __version__ as ansible_version

from ansible_collections.apiauth.saas.plugins.filter.app_config_problems import ROLE, app_config_problems, role_defaults
from ansible_collections.apiauth.saas.plugins.module_utils._errors import Redactor

# The built-in formats' templates are the role's (one home), found from the role's path rather than by the task's
# role, so that the module works outside the role too.
TEMPLATES = ROLE / "templates"
# Before ansible-core 2.19 the template lookup turns a result that reads as data (a JSON file, say) into data unless
# told not to; from 2.19 on it never does, and the option is deprecated.
LOOKUP_OPTIONS = {"convert_data": False} if tuple(map(int, ansible_version.split(".")[:2])) < (2, 19) else {}
# Of what the module returns for a file, only these keys reach the task's result: none holds content. The module
# returns no diff, checksum or size (a guessable secret would not survive a hash of the content); the allow-list
# keeps it so.
KEPT_KEYS = ("changed", "failed", "skipped", "dest", "backup_file", "state", "mode", "owner", "group", "uid", "gid",
             "exit_status", "rc")
# Of a failure, these are kept too, masked: validate's output and exit status, the module's message.
MASKED_KEYS = ("msg", "stdout", "stderr")


def _leaves(value) -> list:
    """Every scalar of a value, as text: what a file may hold."""
    if isinstance(value, Mapping):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [] if value is None or isinstance(value, bool) else [str(value)]


def redactor_for(credentials, files) -> Redactor:
    """Masks every credential and every value of a file's data, also as the INI format writes a % (as %%)."""
    redactor = Redactor()
    for value in _leaves(credentials) + _leaves([entry.get("data") for entry in files]):
        redactor.add(value)
        redactor.add(value.replace("%", "%%"))
    return redactor


def _given(value) -> bool:
    """An option set: an empty text means the role's default (an owner 0, root, is set)."""
    return value is not None and value != ""


def file_args(entry: Mapping, options: Mapping) -> dict:
    """What the module writes for one entry of app_config_files, with the role's defaults, and its template."""
    fmt = entry.get("format", "template")
    args = {
        "src": entry["src"] if fmt == "template" else str(TEMPLATES / f"{fmt}.j2"),
        "dest": entry["dest"],
        "mode": entry.get("mode", options["app_config_mode"]),
        # The filter took only what Ansible reads as a boolean ("no" among them); the module gets True or False.
        "backup": boolean(entry.get("backup", options["app_config_backup"]), strict=False),
    }
    for key in ("owner", "group"):
        value = entry.get(key) if _given(entry.get(key)) else options[f"app_config_{key}"]
        if _given(value):
            args[key] = value
    if "validate" in entry:
        args["validate"] = entry["validate"]
    return args


class ActionModule(ActionBase):
    # The contents travel in the module's arguments: nothing is transferred on its own.
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def _options(self, task_vars: dict) -> dict:
        """The role's variables with the role's defaults. app_config_credentials is checked as app_config_secrets,
        the values the role's first task fetched: templating app_config_credentials here would run its lookups
        again in every host's worker."""
        options = {name: self._templar.template(task_vars.get(name, default))
                   for name, default in role_defaults().items() if name != "app_config_credentials"}
        options["app_config_credentials"] = self._templar.template(task_vars.get("app_config_secrets", {}))
        return options

    def _content(self, src: str, entry: Mapping, task_vars: dict) -> str:
        """One file's content, rendered as ansible.builtin.template renders it: the lookup of the same engine finds
        the template in the templates folders of the search path (the role's, the playbook's) and adds
        ansible_managed and the template_* variables."""
        file_vars = dict(task_vars)
        # The templates of the role (and the user's own) read the entry as item, as a loop would give it. A
        # credential in it stays untrusted text (unsafe before ansible-core 2.19), which nothing templates again:
        # tests/integration/test_adversarial_formats.py writes template markup and reads it back as it was.
        file_vars["item"] = entry
        lookup = self._shared_loader_obj.lookup_loader.get("ansible.builtin.template", loader=self._loader,
                                                           templar=self._templar)
        rendered = lookup.run([src], variables=file_vars, **LOOKUP_OPTIONS)[0]
        return "" if rendered is None else str(rendered)

    def _write(self, files: list, options: Mapping, task_vars: dict) -> list:
        """Render every file, then write those that rendered in one module run; one result per file, in order."""
        outcomes, specs, contents, sent = {}, [], [], []
        for index, entry in enumerate(files):
            args = file_args(entry, options)
            src = args.pop("src")
            try:
                contents.append(self._content(src, entry, task_vars))
            except AnsibleError as exc:
                outcomes[index] = {"dest": entry["dest"], "changed": False, "failed": True, "msg": str(exc)}
                continue
            specs.append(args)
            sent.append(index)
        if specs:
            written = self._execute_module(module_name="apiauth.saas.app_config_render", task_vars=task_vars,
                                           module_args={"_files": specs, "_contents": contents})
            per_file = written.get("results")
            if not isinstance(per_file, list) or len(per_file) != len(specs):
                # The module did not run (no Python on the host, say): every file it had fails with its message.
                failure = {"changed": False, "failed": True, "msg": str(written.get("msg", "the module failed")),
                           **{key: written[key] for key in ("stdout", "stderr", "rc") if key in written}}
                per_file = [dict(failure, dest=spec["dest"]) for spec in specs]
            outcomes.update(zip(sent, per_file))
        kept = []
        for index, entry in enumerate(files):
            outcome = outcomes[index]
            item = {key: outcome[key] for key in KEPT_KEYS if key in outcome}
            # Masked by run(), once for all files, only when one failed.
            item.update({key: str(outcome[key]) for key in MASKED_KEYS if outcome.get("failed") and key in outcome})
            item["changed"] = bool(outcome.get("changed"))
            item["item"] = {"dest": entry["dest"]}
            kept.append(item)
        return kept

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        if self._task.args:
            # It takes no options; an option given is a mistake, never silently ignored.
            given = ", ".join(sorted(map(str, self._task.args)))
            result.update(failed=True, msg=(
                f"Unsupported parameters for apiauth.saas.app_config_render: {given}."
                " It takes none: it reads the role's variables, such as app_config_files"
                " (ansible-doc -t role apiauth.saas.app_config)."))
            return result
        options = self._options(task_vars)
        problems = app_config_problems(options)
        if problems:
            # Names the option, the file and the key, never a value (the filter's promise).
            result.update(failed=True, msg=f"app_config: {' '.join(problems)} See the README of the role.")
            return result
        files = options["app_config_files"]
        try:
            results = self._write(files, options, task_vars)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        failed = [item for item in results if item.get("failed")]
        if failed:
            redactor = redactor_for(options["app_config_credentials"], files)
            for item in failed:
                item.update({key: redactor.redact(item[key]) for key in MASKED_KEYS if key in item})
        result.update(changed=any(item["changed"] for item in results), results=results)
        if failed:
            result.update(failed=True, msg="app_config: " + " ".join(
                f"{item['item']['dest']}: {item.get('msg', 'failed')}" for item in failed))
        else:
            result["msg"] = f"{len(results)} file(s) rendered, {sum(item['changed'] for item in results)} changed."
        return result
