"""Bad-input cases for test_bad_input.py, generated from the plugins' own documentation.

Every option of every module and token lookup (``ansible-doc --json``, doc
fragments resolved) gets values of the wrong type, an empty value where it
must not be empty, and an invalid choice where it has choices; URL, key and
certificate options get targeted cases on top, and the option constraints the
action plugins declare (mutually exclusive, required together, required one
of) get a case each. The roles get wrong types from their
``meta/argument_specs.yml``.

Each plugin's cases start from a baseline that is valid but points at a port
where nothing listens, with ``retries: 0``: a bad value that slips through
ends as "could not connect", never as a token. Secret options (``no_log`` in
the module's argument spec) hold long random values, so finding one in any
output cannot be chance.

One playbook per plugin runs its cases (``ignore_errors``); a last task
writes the registered results to ``results.json``, where ``read_results``
attributes each message to its case.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = "apiauth.saas"
# Nothing listens on the discard port: a request that gets this far is refused at once.
DEAD = "https://127.0.0.1:9"
URL_OPTION = re.compile(r"(^|_)url$|^host$")
# A URL option whose documentation names another scheme (redis://...) is not an HTTP endpoint.
OTHER_SCHEME = re.compile(r"\b(?!https?://)[a-z][a-z0-9+.-]*://")
CACHE_OPTIONS = ("cache", "cache_dir", "cache_encryption_key", "min_ttl", "force_refresh")
HTTP_OPTIONS = ("validate_certs", "ca_path", "client_cert", "client_key", "proxy", "timeout", "retries", "allow_http")
# Options whose value is a file with a key or certificate in it.
KEY_FILE_OPTIONS = ("client_cert", "client_key", "private_key_path", "signing_cert_path")
# Names of options (and parts of names) that must never be empty when given.
NAME_OPTIONS = ("name",)


@dataclass
class Material:
    """Files and random secrets the cases use; every secret is long and random."""

    workdir: Path
    secret_factory: object
    secrets: list = field(default_factory=list)

    def secret(self, prefix: str = "") -> str:
        value = self.secret_factory(prefix)
        self.secrets.append(value)
        return value

    def file(self, name: str, content: str, mode: int = 0o600) -> str:
        path = self.workdir / name
        path.write_text(content)
        path.chmod(mode)
        return str(path)


@dataclass
class Case:
    case_id: str
    plugin: str
    label: str
    args: dict
    names: tuple  # the option names (or aliases) the message must name, any of them
    variables: dict = field(default_factory=dict)  # a lookup's options given as variables

    @property
    def title(self) -> str:
        return f"{self.case_id} {self.plugin} {self.label}"


# -- what the collection has ------------------------------------------------------


def module_names() -> list:
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    return sorted(runtime["action_groups"]["saas"])


def lookup_names() -> list:
    return sorted(p.stem for p in (ROOT / "plugins" / "lookup").glob("*.py") if not p.name.startswith("_"))


def role_names() -> list:
    return sorted(p.parent.parent.name for p in (ROOT / "roles").glob("*/meta/argument_specs.yml"))


def load_docs(kind: str, names: list, ansible_doc: str, env: dict) -> dict:
    """The documented options of each plugin: ``{name: {option: doc}}``, fragments resolved."""
    proc = subprocess.run([ansible_doc, "--json", "-t", kind] + [f"{COLLECTION}.{n}" for n in names],
                          env=env, capture_output=True, text=True, check=True, timeout=300)
    docs = json.loads(proc.stdout)
    return {name: docs[f"{COLLECTION}.{name}"]["doc"].get("options") or {} for name in names}


def role_options(role: str) -> dict:
    """The options of the role's documented entry point: ``main``, or one named after the role, which
    Ansible does not validate by itself (the role checks its arguments in a task of its own)."""
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    return (specs.get("main") or specs[role])["options"]


def action_class(module: str):
    """The action plugin class of a module: its argument spec and declared constraints."""
    import importlib  # pylint: disable=import-outside-toplevel

    return importlib.import_module(f"ansible_collections.apiauth.saas.plugins.action.{module}").ActionModule


def secret_options(module: str) -> set:
    return {name for name, spec in action_class(module).ARGUMENT_SPEC.items() if spec.get("no_log")}


def constraints(module: str) -> dict:
    cls = action_class(module)
    return {"mutually exclusive": cls.MUTUALLY_EXCLUSIVE, "required together": cls.REQUIRED_TOGETHER,
            "required one of": cls.REQUIRED_ONE_OF}


# -- key material -------------------------------------------------------------------


def _pem_key(key, passphrase: bytes | None = None) -> str:
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel

    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()


def make_material(workdir: Path, secret_factory, cert_factory) -> Material:
    """Keys, certificates and broken files; ``cert_factory(key_pem, days)`` makes a self-signed certificate."""
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel

    workdir.mkdir(parents=True, exist_ok=True)
    m = Material(workdir, secret_factory)
    key, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    m.key_pem = _pem_key(key)
    m.secrets.append(m.key_pem)
    m.key_path = m.file("key.pem", m.key_pem)
    m.cert_path = m.file("cert.pem", cert_factory(m.key_pem, 300))
    other_pem = _pem_key(other)
    m.secrets.append(other_pem)
    m.other_key_path = m.file("other-key.pem", other_pem)
    m.other_cert_path = m.file("other-cert.pem", cert_factory(other_pem, 300))
    m.passphrase = m.secret("passphrase-")
    m.encrypted_key_pem = _pem_key(key, m.passphrase.encode())
    m.secrets.append(m.encrypted_key_pem)
    m.encrypted_key_path = m.file("encrypted-key.pem", m.encrypted_key_pem)
    # Garbage between PEM armour: random text that must not be echoed back.
    m.garbage_pem = f"-----BEGIN PRIVATE KEY-----\n{m.secret('garbage-')}\n-----END PRIVATE KEY-----\n"
    m.garbage_path = m.file("garbage.pem", m.garbage_pem)
    m.missing_path = str(workdir / "no-such-file.pem")
    m.directory = str(workdir)
    # A named pipe: reading it would wait for a writer forever, so it must be refused at once.
    m.fifo = str(workdir / "named-pipe.pem")
    os.mkfifo(m.fifo, 0o600)
    m.plain_file = m.file("plain-file", "not a directory\n")
    m.thrive_admin_token = _unsigned_jwt({"exp": int(time.time()) + 86400, "jti": m.secret("jti-")})
    m.secrets.append(m.thrive_admin_token)
    return m


def _unsigned_jwt(claims: dict) -> str:
    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{b64({'alg': 'RS256', 'typ': 'JWT'})}.{b64(claims)}.{base64.urlsafe_b64encode(os.urandom(32)).decode()}"


# -- baselines ------------------------------------------------------------------------


@dataclass
class Baseline:
    """A plugin's valid options; per option a variant of them in which that option is in use.

    A variant is ``(added options, removed options)``; an option listed in no
    variant is tested on ``args``. ``unused`` options are documented as
    accepted and ignored: only their types are checked, not what they point at.
    """

    args: dict
    variants: dict
    unused: tuple = ()


def baselines(m: Material, cache_dir: str) -> dict:
    """Every module's Baseline."""
    common = {"retries": 0, "timeout": 5, "cache_dir": cache_dir}
    tenant = "eu-west-2_BadInput1"

    def jwt(source: str = "content", *, secret: str = "client_secret") -> tuple:
        key = {"content": {"private_key_content": m.key_pem}, "path": {"private_key_path": m.key_path},
               "encrypted": {"private_key_path": m.encrypted_key_path, "private_key_passphrase": m.passphrase}}
        return dict(key[source], auth_method="private_key_jwt", key_id="bad-input-kid"), (secret,)

    tls = {"client_cert": m.cert_path, "client_key": m.key_path}
    jwt_options = {"private_key_content": jwt(), "private_key_path": jwt("path"),
                   "private_key_passphrase": jwt("encrypted"), "signing_algorithm": jwt(),
                   "assertion_audience": jwt(), "assertion_lifetime": jwt(), "key_id": jwt()}

    thredd_preflight = ({**jwt()[0], "jwks_preflight": True, "jwks_url": f"{DEAD}/jwks.json"}, ("client_secret",))
    thredd_signing = ({**jwt("path")[0], "signing_cert_path": m.cert_path}, ("client_secret",))
    custom = ({"token_type": "custom"}, ())
    ts_password = ({"username": "bad-input-admin", "password": m.secret("ts-password-")}, ("admin_token",))
    tables = {
        "oauth2_token": (
            {"token_url": f"{DEAD}/oauth2/token", "client_id": "bad-input-client",
             "client_secret": m.secret("oauth2-"), **common},
            {**jwt_options,
             "client_cert": ({"auth_method": "tls_client_auth", **tls}, ("client_secret",)),
             "client_key": ({"auth_method": "tls_client_auth", **tls}, ("client_secret",))}),
        "throughline_token": (
            {"token_url": f"{DEAD}/oauth/token", "client_id": "bad-input-client",
             "client_secret": m.secret("throughline-"), **common},
            {"client_cert": (tls, ()), "client_key": (tls, ())}),
        "thredd_token": (
            {"environment": "uat", "client_id": "bad-input-client", "client_secret": m.secret("thredd-"),
             "token_url": f"{DEAD}/oauth2/token", "base_url": DEAD, **common},
            {**jwt_options,
             "signing_cert_path": thredd_signing, "certificate_warn_days": thredd_signing,
             "jwks_preflight": thredd_preflight, "jwks_url": thredd_preflight,
             "organisation_id": ({**jwt()[0], "jwks_preflight": True, "organisation_id": "bad-input-org"},
                                 ("client_secret",)),
             "client_cert": ({"connectivity": "mtls", **tls}, ()),
             "client_key": ({"connectivity": "mtls", **tls}, ())}),
        "thoughttrace_token": (
            {"token_url": f"{DEAD}/connect/token", "client_id": "bad-input-client",
             "client_secret": m.secret("thoughttrace-"), **common},
            {"identity_url": ({"identity_url": DEAD}, ("token_url",)),
             "client_cert": (tls, ()), "client_key": (tls, ())}),
        "thrive_token": (
            {"environment": "staging", "tenant_id": tenant, "client_id": "bad-input-client",
             "client_secret": m.secret("thrive-"), "token_url": f"{DEAD}/oauth2/token/{tenant}", **common},
            {"base_url": ({"base_url": DEAD}, ("token_url",)),
             "client_cert": (tls, ()), "client_key": (tls, ())}),
        "thoughtspot_token": (
            {"host": DEAD, "username": "bad-input-user", "secret_key": m.secret("ts-key-"), **common},
            {"password": ({"password": m.secret("ts-password-")}, ("secret_key",)),
             "token": ({"state": "absent", "token": m.secret("ts-token-")}, ()),
             "revoke_all": ({"state": "absent", "admin_token": m.secret("ts-admin-")}, ()),
             "object_id": ({"token_type": "object", "object_id": "bad-input-object"}, ()),
             "filter_rules": custom, "parameter_values": custom, "variable_values": custom, "objects": custom,
             "persist_option": custom,
             "client_cert": (tls, ()), "client_key": (tls, ())}),
        "thoughtspot_token_info": (
            {"host": DEAD, "token": m.secret("ts-token-"), **common},
            {"client_cert": (tls, ()), "client_key": (tls, ())}),
        "thoughtspot_trusted_auth": (
            {"host": DEAD, "admin_token": m.secret("ts-admin-"), **common},
            {"username": ts_password, "password": ts_password,
             **{name: ts_password for name in CACHE_OPTIONS},  # the cache serves the admin token of a password
             "client_cert": (tls, ()), "client_key": (tls, ())}),
        "thoughttrace_client": (
            {"name": "bad-input-client", "identity_url": DEAD, "admin_token": m.secret("tt-admin-"), **common},
            {"admin_client_id": ({"admin_client_id": "bad-input-admin", "admin_client_secret": m.secret("tt-")},
                                 ("admin_token",)),
             "admin_client_secret": ({"admin_client_id": "bad-input-admin",
                                      "admin_client_secret": m.secret("tt-")}, ("admin_token",)),
             # The cache serves the admin token an admin client gets.
             **{name: ({"admin_client_id": "bad-input-admin", "admin_client_secret": m.secret("tt-")},
                       ("admin_token",)) for name in CACHE_OPTIONS},
             "client_cert": (tls, ()), "client_key": (tls, ())}),
        "thrive_apikey": (
            {"environment": "staging", "url": f"{DEAD}/graphql", "admin_token": m.thrive_admin_token,
             "tenant_id": tenant, **common},
            {"current_api_key": ({"current_api_key": m.secret("apikey-"),
                                  "current_valid_until": "2001-01-01T00:00:00Z"}, ()),
             "current_valid_until": ({"current_api_key": m.secret("apikey-"),
                                      "current_valid_until": "2001-01-01T00:00:00Z"}, ()),
             "client_cert": (tls, ()), "client_key": (tls, ())}),
    }
    tables["credential_report"] = ({"cache_dir": cache_dir, "fail_on": "never"}, {})
    # Documented as "Nothing is cached": thrive_apikey's cache options only place its write lock, hand-off
    # record and fallback recovery files, checked by the same code as the token plugins' cache. The report
    # reads only cache_dir; it accepts the HTTP options for the group's module_defaults and sends nothing.
    unused = {"thoughtspot_token_info": CACHE_OPTIONS, "thrive_apikey": CACHE_OPTIONS,
              "credential_report": tuple(name for name in CACHE_OPTIONS if name != "cache_dir") + HTTP_OPTIONS}
    return {name: Baseline(args, variants, unused.get(name, ())) for name, (args, variants) in tables.items()}


def _start(baseline: Baseline, option: str, documented: dict) -> dict:
    """The baseline of a plugin with ``option`` in use, limited to its documented options."""
    added, removed = baseline.variants.get(option, ({}, ()))
    start = {k: v for k, v in baseline.args.items() if k not in removed}
    start.update(added)
    return {k: v for k, v in start.items() if k in documented}


# -- the cases --------------------------------------------------------------------------


def wrong_values(name: str, doc: dict, tag) -> list:
    """(label, value) pairs no Ansible type conversion turns into a valid value.

    Values Ansible converts on purpose ("1" for an int, "yes" for a bool, a
    comma-separated string for a list, "k=v" for a dict, a number for a
    string) are not wrong and not generated.
    """
    kind = doc.get("type", "str")
    choices = doc.get("choices")
    values = []
    if kind in ("str", "path"):
        if choices:
            values.append(("an invalid choice", f"no-such-{name.replace('_', '-')}"))
        values += [("a dictionary", {"bad": tag}), ("a list", [tag])]
    elif kind == "int":
        values += [("not a number", "twelve"), ("a dictionary", {"n": 1})]
    elif kind == "float":
        values += [("not a number", "soon"), ("a list", [1.5])]
    elif kind == "bool":
        values += [("not a boolean", "maybe"), ("a dictionary", {"b": True})]
    elif kind == "list":
        values.append(("a dictionary", {"bad": tag}))
        elements = doc.get("elements")
        if elements == "dict":
            values.append(("a list of strings", ["not-a-dictionary"]))
        elif elements == "str":
            values.append(("a list of dictionaries", [{"bad": tag}]))
        if choices:
            values.append(("a list with an invalid choice", [f"no-such-{name.replace('_', '-')}"]))
    elif kind == "dict":
        values += [("a list", ["bad", tag]), ("not a dictionary", "not-a-dictionary")]
    return values


def is_http_url(name: str, doc: dict) -> bool:
    description = " ".join(doc.get("description") or [])
    return bool(URL_OPTION.search(name)) and not OTHER_SCHEME.search(description)


def must_not_be_empty(name: str, doc: dict) -> bool:
    return bool(doc.get("required")) or doc.get("type") == "path" or is_http_url(name, doc) \
        or name in NAME_OPTIONS or name == "proxy"


def targeted_values(name: str, doc: dict, m: Material) -> list:
    """(label, value, extra options) for URL, proxy, key and certificate options."""
    if is_http_url(name, doc):
        return [("a URL without a scheme", "127.0.0.1:9/path", {}),
                ("an ftp:// URL", "ftp://127.0.0.1:9/path", {}),
                ("a URL with a space in its host", "https://bad host.example/path", {}),
                ("a plain http:// URL without allow_http", "http://127.0.0.1:9/path", {}),
                ("a URL with user info", f"https://bad-input:{m.secret('userinfo-')}@127.0.0.1:9/path", {})]
    if name == "proxy":
        return [("a proxy without a scheme", "127.0.0.1:3128", {}),
                ("an ftp:// proxy", "ftp://127.0.0.1:3128", {}),
                ("a proxy with a space in its host", "http://bad host.example:3128", {})]
    if name == "ca_path":
        return [("a missing file", m.missing_path, {}), ("a file without certificates", m.garbage_path, {}),
                ("a named pipe", m.fifo, {})]
    if name in KEY_FILE_OPTIONS:
        return [("a missing file", m.missing_path, {}), ("a directory", m.directory, {}),
                ("garbage PEM", m.garbage_path, {}), ("a named pipe", m.fifo, {})]
    if name == "cache_dir":
        return [("a regular file", m.plain_file, {})]
    if name == "private_key_content":
        return [("garbage PEM", m.garbage_pem, {})]
    return []


class CaseBuilder:
    def __init__(self, plugin: str, prefix: str) -> None:
        self.plugin = plugin
        self.prefix = prefix
        self.cases: list = []

    def add(self, label: str, args: dict, names, variables=None) -> None:
        case_id = f"{self.prefix}{len(self.cases):04d}"
        self.cases.append(Case(case_id, self.plugin, label, args, tuple(names), dict(variables or {})))


def plugin_cases(plugin: str, prefix: str, options: dict, baseline: Baseline, m: Material, *, secret_names: set,
                 declared: dict, lookup: bool = False) -> list:
    """Every case of one module or lookup."""
    build = CaseBuilder(plugin, prefix)
    for name, doc in sorted(options.items()):
        names = (name,) + tuple(doc.get("aliases") or ())
        start = _start(baseline, name, options)

        def tag(option=name):
            return m.secret(f"{option}-") if option in secret_names else "bad-input"

        for label, value in wrong_values(name, doc, tag()):
            build.add(f"{name}: {label}", dict(start, **{name: value}), names)
        if must_not_be_empty(name, doc):
            build.add(f"{name}: empty", dict(start, **{name: ""}), names)
        if doc.get("required"):
            build.add(f"{name}: missing", {k: v for k, v in start.items() if k != name}, names)
        if name not in baseline.unused:
            for label, value, extra in targeted_values(name, doc, m):
                build.add(f"{name}: {label}", dict(start, **extra, **{name: value}), names)
        if lookup and doc.get("vars") and doc.get("type") in ("bool", "int", "float"):
            # A variable reaches the lookup by another path than a keyword.
            label, value = wrong_values(name, doc, "bad-input")[0]
            variable = doc["vars"][0]["name"]
            build.add(f"{name}: {label}, in the variable {variable}",
                      {k: v for k, v in start.items() if k != name}, names, {variable: value})
    _key_cases(build, options, baseline, m)
    _constraint_cases(build, options, baseline, m, declared)
    return build.cases


def _key_cases(build: CaseBuilder, options: dict, baseline: Baseline, m: Material) -> None:
    """Keys that do not fit: a mismatched pair, an encrypted key without or with a wrong passphrase."""
    if "client_key" in options and "client_key" not in baseline.unused:
        start = _start(baseline, "client_key", options)
        build.add("client_key: does not match client_cert", dict(start, client_key=m.other_key_path),
                  ("client_key", "client_cert"))
        build.add("client_key: encrypted", dict(start, client_key=m.encrypted_key_path), ("client_key",))
    if "private_key_passphrase" in options:
        start = _start(baseline, "private_key_passphrase", options)
        without = {k: v for k, v in start.items() if k != "private_key_passphrase"}
        build.add("private_key_path: encrypted, no passphrase", without, ("private_key_passphrase",))
        build.add("private_key_passphrase: wrong", dict(start, private_key_passphrase=m.secret("wrong-")),
                  ("private_key_passphrase",))
        content = {k: v for k, v in without.items() if k != "private_key_path"}
        build.add("private_key_content: encrypted, no passphrase",
                  dict(content, private_key_content=m.encrypted_key_pem), ("private_key_passphrase",))
    if "signing_cert_path" in options:
        start = _start(baseline, "signing_cert_path", options)
        build.add("signing_cert_path: certificate of another key", dict(start, signing_cert_path=m.other_cert_path),
                  ("signing_cert_path",))


def _constraint_cases(build: CaseBuilder, options: dict, baseline: Baseline, m: Material, declared: dict) -> None:
    """The action plugin's mutually exclusive, required-together and required-one-of options."""
    values = {}
    for variant in baseline.variants.values():
        values.update(variant[0])
    values.update(baseline.args)
    values.setdefault("private_key_path", m.key_path)
    values.setdefault("private_key_content", m.key_pem)

    def value_of(name):
        return values.get(name, m.secret(f"{name}-") if "secret" in name or "password" in name else "bad-input")

    for group in declared.get("mutually exclusive", []):
        if all(name in options for name in group):
            start = _start(baseline, group[0], options)
            build.add(f"{' and '.join(group)}: together", dict(start, **{n: value_of(n) for n in group}), group)
    for group in declared.get("required together", []):
        for alone in group:
            if all(name in options for name in group):
                start = {k: v for k, v in _start(baseline, alone, options).items() if k not in group}
                build.add(f"{alone}: without {', '.join(n for n in group if n != alone)}",
                          dict(start, **{alone: value_of(alone)}), group)
    for group in declared.get("required one of", []):
        if all(name in options for name in group):
            start = {k: v for k, v in baseline.args.items() if k not in group and k in options}
            for name in group:
                for partner in declared.get("required together", []):
                    if name in partner:
                        start = {k: v for k, v in start.items() if k not in partner}
            build.add(f"none of {', '.join(group)}", start, group)


def role_cases(role: str, prefix: str, options: dict, baseline: dict) -> list:
    """Wrong types and invalid choices of a role's options (its argument spec validation)."""
    build = CaseBuilder(role, prefix)
    for name, doc in sorted(options.items()):
        kind = doc.get("type", "str")
        if kind == "str" and not doc.get("choices"):
            continue  # Ansible turns anything into a string: nothing cheap to refuse
        for label, value in wrong_values(name, doc, "bad-input"):
            if (kind == "str" and label != "an invalid choice") or label == "a list of dictionaries":
                continue  # Ansible turns a dictionary given for a string into its text
            build.add(f"{name}: {label}", dict(baseline, **{name: value}), (name,))
    return build.cases


# -- playbooks --------------------------------------------------------------------------
# The cases of a module or lookup run as the items of one looped task: one worker process
# imports the plugin once for all of them, several times faster than a task per case. The
# loop goes over case ids only, so no value (some are secrets) is ever shown as an item.

LOOP_RESULTS = "bad_input_loop"


def _collect_task(registers: list, out: Path) -> dict:
    return {"name": "Collect the registered results",
            "ansible.builtin.copy": {
                "dest": str(out / "results.json"), "mode": "0600",
                "content": "{{ dict(names | zip(query('ansible.builtin.vars', *names, default={}))) | to_json }}"},
            "vars": {"names": registers}, "no_log": True}


def read_results(path: Path) -> dict:
    """``{case id: registered result}`` from what the collect task wrote."""
    registered = json.loads(path.read_text())
    results = {name: result for name, result in registered.items() if name != LOOP_RESULTS}
    for item in registered.get(LOOP_RESULTS, {}).get("results", []):
        results[item["item"]] = item
    return results


def _play(name: str, cases: list, tasks: list, out: Path, registers: list) -> list:
    looped = {case.case_id: case.args for case in cases if not case.variables}
    return [{"name": name, "hosts": "localhost", "gather_facts": False, "vars": {"bad_input_cases": looped},
             "tasks": tasks + [_collect_task(([LOOP_RESULTS] if looped else []) + registers, out)]}]


def module_playbook(module: str, cases: list, out: Path) -> list:
    task = {"name": f"{module}: every case", f"{COLLECTION}.{module}": "{{ bad_input_cases[item] }}",
            "loop": [case.case_id for case in cases], "register": LOOP_RESULTS, "ignore_errors": True}
    return _play(f"Bad input for the module {module}", cases, [task], out, [])


def lookup_playbook(lookup: str, cases: list, out: Path) -> list:
    def call(kwargs: str) -> dict:
        return {"bad_input_value": "{{ lookup('" + f"{COLLECTION}.{lookup}" + f"', **{kwargs}) }}}}"}

    looped = [case.case_id for case in cases if not case.variables]
    tasks = [{"name": f"{lookup}: every case given as keywords", "ansible.builtin.set_fact": call("bad_input_cases[item]"),
              "loop": looped, "register": LOOP_RESULTS, "ignore_errors": True}]
    # Options given as variables: one task each, the variables set on it.
    single = [case for case in cases if case.variables]
    tasks += [{"name": case.title, "ansible.builtin.set_fact": call("bad_input_kw"),
               "vars": {"bad_input_kw": case.args, **case.variables}, "register": case.case_id,
               "ignore_errors": True} for case in single]
    return _play(f"Bad input for the lookup {lookup}", cases, tasks, out, [case.case_id for case in single])


def role_playbook(role: str, cases: list, out: Path) -> list:
    """A block per case: a role's options are its variables, which a loop cannot leave out."""
    tasks = [{"name": case.title,
              "block": [{"name": f"Include {role}", "ansible.builtin.include_role": {"name": f"{COLLECTION}.{role}"},
                         "vars": case.args}],
              "rescue": [{"name": "Keep the failure",
                          "ansible.builtin.set_fact": {case.case_id: "{{ ansible_failed_result }}"}}]}
             for case in cases]
    return [{"name": f"Bad input for the role {role}", "hosts": "localhost", "gather_facts": False,
             "tasks": tasks + [_collect_task([case.case_id for case in cases], out)]}]


def write_playbook(path: Path, plays: list) -> str:
    """JSON is YAML: no quoting surprises for the literal wrong values."""
    path.write_text(json.dumps(plays, indent=1))
    return str(path)
