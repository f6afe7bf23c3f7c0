"""Bad input gets a clear error naming the option, for every option of every plugin.

The cases come from the plugins' own documentation (see bad_input_cases.py),
so a new option is covered without touching this file. One playbook per
module, lookup and role runs all of its cases at -vvvv, each task with
``ignore_errors``; then, for every case:

* the task failed (a bad value that reached the network ends as "could not
  connect": the value was accepted when it should have been refused);
* the message names the option (or one of its aliases), in one or two lines
  of plain English: no traceback, no Python class names, no exception dump;
* no secret of the run (every one long and random) is in the message, and no
  traceback or secret is anywhere in stdout, stderr or the Ansible log.

What counts as bad: values no Ansible type conversion makes valid. A string
for an int that reads as a number ("1"), a boolean-like string ("yes"), a
comma-separated string for a list, "k=v" for a dict or a number for a string
are converted by Ansible on purpose and are not tested as errors; a dictionary
or a list for a string option is, since turning it into its Python text is
never what the user meant. Empty strings are errors for required options,
paths, URLs, the proxy and names, where an empty value would otherwise fall
back silently to a default.
"""

from __future__ import annotations

import os
import re

import pytest

import bad_input_cases as bic
from conftest import ANSIBLE_BIN, COLLECTIONS, assert_absent, assert_no_traceback, strong_secret
from simulators.fixtures import make_self_signed_cert

# What a message must never hold: a traceback, an exception's dump or a Python object's text.
INTERNALS = re.compile(r"Traceback|Exception:|Error:\s*\(|<class '|object at 0x|ansible\.module_utils\._internal"
                       r"|Unexpected error in apiauth")
# The bad value got past every check: the request went to the port where nothing listens.
REACHED_NETWORK = re.compile(r"could not connect|connection refused", re.I)

PLUGINS = ([("module", name) for name in bic.module_names()] + [("lookup", name) for name in bic.lookup_names()]
           + [("role", name) for name in bic.role_names()])


@pytest.fixture(scope="session")
def documented():
    """The options of every module and lookup, from ansible-doc, once per session (worker)."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
    doc = str(ANSIBLE_BIN / "ansible-doc")
    return {"module": bic.load_docs("module", bic.module_names(), doc, env),
            "lookup": bic.load_docs("lookup", bic.lookup_names(), doc, env)}


def _names_option(message: str, names) -> bool:
    return any(re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", message) for name in names)


def _problems(case, result: dict, secrets: list, *, ours: bool = True) -> list:
    """What is wrong with one case's result; ``ours`` is false for Ansible's own role validation text."""
    message = str(result.get("msg", "")) if isinstance(result, dict) else ""
    found = []
    if not isinstance(result, dict) or not result.get("failed"):
        found.append("did not fail")
    elif REACHED_NETWORK.search(message):
        found.append("the value was accepted and the request went out")
    elif not _names_option(message, case.names):
        found.append(f"does not name {' or '.join(case.names)}")
    if ours and INTERNALS.search(message):
        found.append("shows internals")
    if ours and len(message.strip().splitlines()) > 2:
        found.append("longer than two lines")
    if any(secret in message for secret in secrets):
        found.append("shows a secret")
    return [f"{case.title}: {problem}: {message!r}" for problem in found]


def _cases(kind: str, name: str, documented, material, cache_dir) -> list:
    if kind == "role":
        baseline = {"secret_store": {"secret_store_action": "read",
                                     "secret_store_file_path": str(material.workdir / "absent.json")},
                    "app_config": {"app_config_files": []}}.get(name, {})
        return bic.role_cases(name, "r", bic.role_options(name), baseline)
    module = name
    options = documented[kind][name]
    baseline = bic.baselines(material, str(cache_dir))[module]
    return bic.plugin_cases(name, kind[0], options, baseline, material, secret_names=bic.secret_options(module),
                            declared=bic.constraints(module), lookup=kind == "lookup")


@pytest.mark.parametrize("kind,name", PLUGINS, ids=[f"{kind}-{name}" for kind, name in PLUGINS])
def test_bad_input_names_the_option(kind, name, documented, run_playbook, tmp_path, out, cache_dir):
    material = bic.make_material(tmp_path / "material", strong_secret, make_self_signed_cert)
    cases = _cases(kind, name, documented, material, cache_dir)
    assert cases, f"no case for the {kind} {name}"
    build = {"module": bic.module_playbook, "lookup": bic.lookup_playbook, "role": bic.role_playbook}[kind]
    playbook = bic.write_playbook(tmp_path / f"bad_input_{kind}_{name}.yml", build(name, cases, out))
    run = run_playbook(playbook, verbosity=4)
    results_file = out / "results.json"
    assert results_file.exists(), run.output[-5000:]
    results = bic.read_results(results_file)
    problems = [line for case in cases
                for line in _problems(case, results.get(case.case_id), material.secrets, ours=kind != "role")]
    assert not problems, f"{len(problems)} of {len(cases)} cases of the {kind} {name}:\n" + "\n".join(problems)
    assert_no_traceback(run)
    assert_absent(material.secrets, run)


def test_lookup_options_from_the_environment_are_checked(run_playbook, tmp_path, out, cache_dir):
    """Ansible's configuration reads 'maybe' as false and an empty path as the current directory."""
    material = bic.make_material(tmp_path / "material", strong_secret, make_self_signed_cert)
    baseline = bic.baselines(material, str(cache_dir))["throughline_token"].args
    env = {"APIAUTH_SAAS_TIMEOUT": "soon", "APIAUTH_SAAS_VALIDATE_CERTS": "maybe", "APIAUTH_SAAS_CA_PATH": ""}
    keywords = {"timeout": 5, "validate_certs": True, "ca_path": material.cert_path}
    build = bic.CaseBuilder("throughline_token", "e")
    for name, variable in (("timeout", "APIAUTH_SAAS_TIMEOUT"), ("validate_certs", "APIAUTH_SAAS_VALIDATE_CERTS"),
                           ("ca_path", "APIAUTH_SAAS_CA_PATH")):
        args = {k: v for k, v in {**baseline, **keywords}.items() if k != name}
        build.add(f"{name}: from the environment variable {variable}", args, (name,))
    playbook = bic.write_playbook(tmp_path / "bad_input_environment.yml",
                                  bic.lookup_playbook("throughline_token", build.cases, out))
    run = run_playbook(playbook, verbosity=4, env=env)
    results = bic.read_results(out / "results.json")
    problems = [line for case in build.cases
                for line in _problems(case, results.get(case.case_id), material.secrets)]
    assert not problems, "\n".join(problems)
    for case in build.cases:
        assert f"from the environment variable {case.label.rpartition(' ')[2]}" in results[case.case_id]["msg"]
    assert_no_traceback(run)
    assert_absent(material.secrets, run)


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.oauth2_token,
    pytest.mark.app_config_problems,
    pytest.mark.thoughtspot_token,
    pytest.mark.thoughttrace_token,
    pytest.mark.thredd_token,
    pytest.mark.thrive_token,
    pytest.mark.throughline_token,
    pytest.mark.thoughtspot_token_info,
    pytest.mark.thoughtspot_trusted_auth,
    pytest.mark.thoughttrace_client,
    pytest.mark.thrive_apikey,
    pytest.mark.credential_report,
]
