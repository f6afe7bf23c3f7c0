# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of apiauth.saas.app_config_render: the file task of the role apiauth.saas.app_config.

It reads the role's variables, checks them (the filter app_config_problems) and
runs Ansible's own template action once per file, on a copy of this task, the
way the template action runs copy. Owner, group, mode, backup, validate, check
mode and the host side are therefore Ansible's. What it adds over a looped
template task: one worker per host with no loop (no per-item templating, no
per-item callback), and a result that never holds a file's content, so the task
needs no no_log and a refusal can be read (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.apiauth.saas.plugins.filter.app_config_problems import ROLE, app_config_problems, role_defaults
from ansible_collections.apiauth.saas.plugins.module_utils._errors import Redactor

# The built-in formats' templates are the role's (one home), found from the role's path rather than by the task's
# role, so that the module works outside the role too.
TEMPLATES = ROLE / "templates"
# Of what the template action returns for a file, only these keys reach the task's result: none holds content.
# Left out, among others: diff (the content), checksum and md5sum (a hash of the content, which a guessable
# secret would not survive), size, src (a temporary copy on the host), invocation and exception.
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


def file_args(entry: Mapping, options: Mapping) -> dict:
    """The template action's arguments for one entry of app_config_files, with the role's defaults."""
    fmt = entry.get("format", "template")
    args = {
        "src": entry["src"] if fmt == "template" else str(TEMPLATES / f"{fmt}.j2"),
        "dest": entry["dest"],
        "mode": entry.get("mode", options["app_config_mode"]),
        "backup": entry.get("backup", options["app_config_backup"]),
    }
    for key in ("owner", "group"):
        value = entry.get(key) or options[f"app_config_{key}"]
        if value:
            args[key] = value
    if "validate" in entry:
        args["validate"] = entry["validate"]
    return args


class ActionModule(ActionBase):
    # The template action it runs transfers the files and makes the host's temporary directory.
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

    def _render(self, entry: Mapping, options: Mapping, task_vars: dict) -> dict:
        task = self._task.copy()
        task.args = file_args(entry, options)
        # The content diff is never made: the role shows which files changed instead.
        task.diff = False
        file_vars = dict(task_vars)
        # The templates of the role (and the user's own) read the entry as item, as a loop would give it. A
        # credential in it stays untrusted text (unsafe before ansible-core 2.19), which nothing templates again:
        # tests/integration/test_adversarial_formats.py writes template markup and reads it back as it was.
        file_vars["item"] = entry
        # The template action extends this list in place: each file gets its own.
        file_vars["ansible_search_path"] = list(task_vars.get("ansible_search_path", []))
        template = self._shared_loader_obj.action_loader.get(
            "ansible.legacy.template", task=task, connection=self._connection, play_context=self._play_context,
            loader=self._loader, templar=self._templar, shared_loader_obj=self._shared_loader_obj)
        try:
            outcome = template.run(task_vars=file_vars)
        except AnsibleError as exc:
            outcome = {"failed": True, "msg": str(exc)}
        kept = {key: outcome[key] for key in KEPT_KEYS if key in outcome}
        if outcome.get("failed"):
            # Masked by run(), once for all files, only when one failed.
            kept.update({key: str(outcome[key]) for key in MASKED_KEYS if key in outcome})
        kept["changed"] = bool(outcome.get("changed"))
        kept["item"] = {"dest": entry["dest"]}
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
        results = [self._render(entry, options, task_vars) for entry in files]
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
