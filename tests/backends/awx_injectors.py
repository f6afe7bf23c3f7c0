"""Render AWX custom credential type injectors as AWX does for a job, without AWX.

What AWX documents and does when a job starts with a credential of a custom type:

* the namespace holds the credential's inputs that are set and not empty (an input left
  empty, or absent, is undefined: ``{{ field }}`` renders as an empty string and
  ``default()`` applies); boolean fields that are absent are false;
* every ``file`` injector is rendered into a new file of the job's private directory (mode
  0600); a single ``template`` becomes ``{{ tower.filename }}``, ``template.<name>`` become
  ``{{ tower.filename.<name> }}``;
* every ``env`` injector is rendered and set, empty or not; names starting with ``ANSIBLE_``
  are refused;
* the ``extra_vars`` injectors are rendered and handed to ansible-playbook as ``-e @file``.

Rendering uses Jinja's immutable sandbox, as AWX does. ``check_definition`` applies the
checks AWX makes when a credential type is saved (kinds, field types, templates that only
name defined fields).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from types import SimpleNamespace

import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = Path(__file__).resolve().parents[2]
CREDENTIAL_TYPES = ROOT / "extensions" / "awx" / "credential_types"
CUSTOM_KINDS = ("cloud", "net")
FIELD_KEYS = {"id", "label", "type", "secret", "multiline", "help_text", "choices", "default", "format",
              "ask_at_runtime"}
INJECTOR_KEYS = {"env", "extra_vars", "file"}
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def load_credential_types() -> dict:
    """File stem -> credential type definition, for every file the collection ships."""
    return {path.stem: yaml.safe_load(path.read_text()) for path in sorted(CREDENTIAL_TYPES.glob("*.yml"))}


def _namespace(definition: dict, inputs: dict) -> dict:
    namespace = {}
    for field in definition["inputs"]["fields"]:
        value = inputs.get(field["id"])
        if field.get("type", "string") == "boolean":
            namespace[field["id"]] = bool(value)
        elif value not in (None, ""):
            namespace[field["id"]] = value
    return namespace


def render(definition: dict, inputs: dict, private_dir) -> tuple:
    """(env, extra_vars) of a job with one credential of this type and these inputs."""
    sandbox = ImmutableSandboxedEnvironment()
    namespace = _namespace(definition, inputs)
    tower = SimpleNamespace()
    injectors = definition.get("injectors") or {}
    env_dir = Path(private_dir) / "env"
    env_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for label, template in (injectors.get("file") or {}).items():
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as stream:
            stream.write(sandbox.from_string(template).render(tower=tower, **namespace))
        os.chmod(path, 0o600)
        if "." not in label:
            tower.filename = path
        else:
            if not isinstance(getattr(tower, "filename", None), SimpleNamespace):
                tower.filename = SimpleNamespace()
            setattr(tower.filename, label.split(".", 1)[1], path)
    env = {name: sandbox.from_string(template).render(tower=tower, **namespace)
           for name, template in (injectors.get("env") or {}).items() if not name.startswith("ANSIBLE_")}
    extra_vars = {name: sandbox.from_string(template).render(tower=tower, **namespace)
                  for name, template in (injectors.get("extra_vars") or {}).items()}
    return env, extra_vars


def check_definition(definition: dict) -> list:
    """What AWX would refuse in this credential type, as a list of messages (empty: accepted)."""
    problems = []
    if not isinstance(definition.get("name"), str) or not definition["name"]:
        problems.append("name is required")
    if definition.get("kind") not in CUSTOM_KINDS:
        problems.append(f"kind must be one of {CUSTOM_KINDS} for a custom credential type")
    inputs = definition.get("inputs") or {}
    fields = inputs.get("fields") or []
    ids = [field.get("id") for field in fields]
    if len(set(ids)) != len(ids):
        problems.append("field ids must be unique")
    for field in fields:
        unknown = set(field) - FIELD_KEYS
        if unknown:
            problems.append(f"field {field.get('id')}: unknown keys {sorted(unknown)}")
        if not isinstance(field.get("id"), str) or not isinstance(field.get("label"), str):
            problems.append(f"field {field.get('id')}: id and label are required")
        if field.get("type", "string") not in ("string", "boolean"):
            problems.append(f"field {field.get('id')}: type must be string or boolean")
        if "choices" in field and "default" in field and field["default"] not in field["choices"]:
            problems.append(f"field {field['id']}: default not among its choices")
    for name in inputs.get("required") or []:
        if name not in ids:
            problems.append(f"required field {name} is not defined")
    injectors = definition.get("injectors") or {}
    if set(injectors) - INJECTOR_KEYS:
        problems.append(f"unknown injector kinds {sorted(set(injectors) - INJECTOR_KEYS)}")
    for name in injectors.get("env") or {}:
        if not ENV_NAME.match(name) or name.startswith("ANSIBLE_"):
            problems.append(f"environment variable {name} is not allowed")
    files = injectors.get("file") or {}
    for label in files:
        if label != "template" and not re.match(r"^template\.[A-Za-z_][A-Za-z0-9_]*$", label):
            problems.append(f"file injector {label} must be template or template.<name>")
    # Every template renders with every field set and nothing else (StrictUndefined).
    strict = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    labels = [label.split(".", 1)[1] for label in files if "." in label]
    filename = SimpleNamespace(**{label: "/path" for label in labels}) if labels else "/path"
    namespace = {field_id: "EXAMPLE" for field_id in ids}
    for kind in ("file", "env", "extra_vars"):
        for name, template in (injectors.get(kind) or {}).items():
            try:
                strict.from_string(template).render(tower=SimpleNamespace(filename=filename), **namespace)
            except Exception as exc:  # pylint: disable=broad-except
                problems.append(f"{kind} injector {name}: {exc}")
    return problems


def referenced_field(template: str) -> str | None:
    """The one input field an injector template renders (``tower.filename.<name>`` counts as <name>)."""
    match = re.search(r"\{\{\s*tower\.filename\.(\w+)", template) or re.search(r"\{\{\s*(\w+)", template)
    return match.group(1) if match else None
