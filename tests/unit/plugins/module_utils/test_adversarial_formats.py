"""Hostile values and names against every format the roles write (module_utils/_config_formats.py).

Property: for any data, apiauth.saas.to_config either writes a file from which the format's
standard reader (tests/format_readers.py: configparser, yaml.safe_load, json, python-dotenv, and
an oracle of systemd's documented EnvironmentFile= rules) gives back exactly the data, or it
refuses, naming every offending key and never a value. It refuses exactly what the roles' READMEs
say a format cannot carry (restated here as *_cannot_carry), nothing more.

The filters are called through Ansible's plugin loader, as the roles call them.
"""

from __future__ import annotations

import configparser
import re
import string

import jinja2
import pytest
from ansible.errors import AnsibleFilterError
from ansible.plugins.loader import filter_loader
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ansible_collections.apiauth.saas.plugins.module_utils import _config_formats as formats
from format_readers import (
    read_dotenv,
    read_ini,
    read_json,
    read_systemd_env,
    read_yaml,
    systemd_character_problem,
)

EVIL = "\n[api]\nurl = https://evil.example"
EXAMPLES = 1000
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])

# What makes formats, readers and shells misread text, and what makes names fail.
HOSTILE_CHARS = "\n\r\t \x00'\"$`{}[]=#;:\\%!*&|<>~-?@,^\x0b\x0c\x1c\x85\u2028\u2029\ufeff\ufdd0\uffff\u00e9\u202e"
SNIPPETS = [EVIL, "${HOME}", "${X:-y}", "$HOME", "`id`", "$(id)", "%(url)s", "%%", "%", "\\", "\\\\", "\\'",
            '\\"', "'", '"', "\r\n", "\n#", "\n;", "\n ", " \n", "[", "]", "[api]", "=", ":", "# c", "; c",
            "\n\n", "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----", "null", "~", "yes", "0x1F",
            "1e3", "- a", "a: b", "{}", "[]", "&a", "*a", "!!python/object", "\ud800", "\U0001f600", "\u0000"]

hostile_text = st.one_of(
    st.text(alphabet=HOSTILE_CHARS + "ab", max_size=24),
    st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=24),
    st.lists(st.sampled_from(SNIPPETS) | st.text(alphabet=HOSTILE_CHARS + "xy", max_size=3), max_size=6).map("".join),
)
# Markers go in the middle of a value, so its edges stay as hostile as generated; a message must never show one.
marker = st.text(alphabet=string.ascii_letters + string.digits, min_size=16, max_size=16).map(lambda m: f"M{m}")
key_text = st.one_of(st.sampled_from(["token", "url", "API_TOKEN", "DEFAULT", "a b", "Token"]), hostile_text)
env_name = st.one_of(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True), key_text)


@st.composite
def marked_value(draw):
    """(value, marker): hostile text around a unique marker, or (rarely) a bare hostile value."""
    if draw(st.integers(0, 9)) == 0:
        return draw(hostile_text), None
    mark = draw(marker)
    return draw(hostile_text) + mark + draw(hostile_text), mark


def _filter(name: str):
    return filter_loader.get(f"apiauth.saas.{name}").j2_function


to_config = _filter("to_config")
config_problems = _filter("config_problems")
from_env_file = _filter("from_env_file")
fingerprint = _filter("fingerprint")


def _write(tmp_path, text: str, suffix: str):
    path = tmp_path / f"file{suffix}"
    path.write_bytes(text.encode("utf-8"))
    return path


def _assert_refusal(err_text: str, problems: list[str], names: list[str], marks: list[str], where: str) -> None:
    """A refusal names the file and each offending key, and shows no value."""
    assert where in err_text
    for name in names:
        assert formats.show_name(name) in err_text, (name, err_text)
    for mark in marks:
        assert mark not in err_text and all(mark not in problem for problem in problems)


# What each format cannot carry, as the READMEs say -------------------------------------------

def _surrogate(text: str) -> bool:
    return any(0xD800 <= ord(char) <= 0xDFFF for char in text)


def ini_value_cannot_carry(text: str) -> bool:
    lines = text.split("\n")
    return ("\r" in text or _surrogate(text) or any(line != line.strip() for line in lines)
            or any(line[:1] in ("#", ";") for line in lines[1:]) or (len(lines) > 1 and lines[-1] == ""))


def ini_name_cannot_carry(name: str, *, section: bool) -> bool:
    if not name or "\n" in name or "\r" in name or _surrogate(name):
        return True
    if section:
        return False
    return "=" in name or ":" in name or name != name.strip() or name[0] in "#;["


def env_value_cannot_carry(text: str, fmt: str) -> bool:
    if systemd_character_problem(text):
        return True
    return fmt == "dotenv" and ("\r" in text or "${" in text and "}" in text.split("${", 1)[1]
                                or text.endswith("\\"))


# INI ---------------------------------------------------------------------------------------------

@st.composite
def ini_data(draw):
    data, marks, refused_names = {}, [], []
    for _section in range(draw(st.integers(1, 3))):
        section = draw(key_text)
        options = {}
        for _option in range(draw(st.integers(0, 3))):
            key = draw(key_text)
            value, mark = draw(marked_value())
            options.setdefault(key, value)
            if mark:
                marks.append(mark)
        if section in data:
            continue
        data[section] = options
        if ini_name_cannot_carry(section, section=True):
            refused_names.append(section)
            continue
        lowered = set()
        for key, value in options.items():
            if ini_name_cannot_carry(key, section=False) or key.lower() in lowered or ini_value_cannot_carry(value):
                refused_names.append(key)
            lowered.add(key.lower())
    return data, marks, refused_names


@SETTINGS
@given(case=ini_data(), interpolation=st.sampled_from(["basic", "none"]))
def test_ini_reads_back_every_value_or_refuses_it_by_name(tmp_path_factory, case, interpolation):
    data, marks, refused_names = case
    where = "/etc/app/app.ini"
    try:
        text = to_config(data, "ini", file=where, ini_interpolation=interpolation)
    except AnsibleFilterError as err:
        event("refused")
        problems = config_problems(data, "ini", file=where, ini_interpolation=interpolation)
        assert refused_names, f"refused what INI can carry: {problems}"
        assert problems and all(problem.startswith(f"{where}: ") for problem in problems)
        _assert_refusal(str(err), problems, refused_names, marks, where)
        return
    event("written and read back")
    assert not refused_names, f"wrote what INI cannot carry: {refused_names}"
    assert config_problems(data, "ini", file=where, ini_interpolation=interpolation) == []
    read = read_ini(_write(tmp_path_factory.mktemp("ini"), text, ".ini"), interpolation)
    # configparser reads option names in lower case and adds the default section's options to every section.
    defaults = {key.lower(): value for key, value in data.get("DEFAULT", {}).items()}
    expected = {name: {**defaults, **{key.lower(): value for key, value in options.items()}}
                for name, options in data.items() if name != "DEFAULT"}
    if defaults:
        expected["DEFAULT"] = defaults
    assert read == expected


def _ini_carriable(text: str) -> str:
    """Hostile text made into what INI can carry, keeping the rest: payloads, '=', '[', '%', quotes, NUL."""
    lines = [line.strip() for line in text.replace("\r", "").encode("utf-8", "replace").decode("utf-8").split("\n")]
    lines = lines[:1] + [f"x{line}" if line[:1] in ("#", ";") else line for line in lines[1:]]
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


@SETTINGS
@given(values=st.lists(hostile_text.map(_ini_carriable), min_size=1, max_size=4),
       interpolation=st.sampled_from(["basic", "none"]))
def test_ini_carries_every_value_it_can_intact(tmp_path_factory, values, interpolation):
    data = {"api": {"url": "https://api.example.com", **{f"key{index}": value for index, value in enumerate(values)}},
            "other": {"token": values[0] + EVIL}}
    path = _write(tmp_path_factory.mktemp("ini"), to_config(data, "ini", ini_interpolation=interpolation), ".ini")
    assert read_ini(path, interpolation) == data


def _old_ini_rendering(data: dict) -> str:
    """The role's INI template before this change, rendered as Ansible's template module does (trim_blocks)."""
    template = (
        "{% for section, options in item.data.items() %}\n[{{ section }}]\n"
        "{% for name, value in options.items() %}\n{{ name }} = {{ value }}\n{% endfor %}\n"
        "{% if not loop.last %}\n\n{% endif %}\n{% endfor %}\n"
    )
    return jinja2.Environment(trim_blocks=True).from_string(template).render(item={"data": data})


def test_ini_section_injection_is_held_inside_the_value(tmp_path):
    token = "tok-3f9a1c" + EVIL
    data = {"api": {"url": "https://api.example.com", "token": token}}
    # Positive control: the value holds the payload, and the former rendering let it override api.url.
    assert EVIL in token
    old = configparser.ConfigParser(strict=False)
    old.read_string(_old_ini_rendering(data))
    assert old.get("api", "url") == "https://evil.example"

    path = _write(tmp_path, to_config(data, "ini"), ".ini")
    for interpolation in ("basic", "none"):
        assert read_ini(path, interpolation) == {"api": {"url": "https://api.example.com", "token": token}}


@pytest.mark.parametrize("interpolation, written", [("basic", "pct = 50%%(url)s"), ("none", "pct = 50%(url)s")])
def test_ini_percent_is_literal_for_the_parser_it_is_written_for(tmp_path, interpolation, written):
    data = {"api": {"url": "https://api.example.com", "pct": "50%(url)s"}}
    text = to_config(data, "ini", ini_interpolation=interpolation)
    assert written in text.splitlines()
    assert read_ini(_write(tmp_path, text, ".ini"), interpolation)["api"]["pct"] == "50%(url)s"


# Env files: dotenv (python-dotenv and systemd) and systemd ---------------------------------------

@st.composite
def env_data(draw):
    data, marks, refused_names, fmt = {}, [], [], draw(st.sampled_from(["dotenv", "systemd"]))
    for _variable in range(draw(st.integers(1, 4))):
        name = draw(env_name)
        value, mark = draw(marked_value())
        if name in data:
            continue
        data[name] = value
        if mark:
            marks.append(mark)
        if not formats._ENV_NAME.match(name) or env_value_cannot_carry(value, fmt):  # pylint: disable=protected-access
            refused_names.append(name)
    return fmt, data, marks, refused_names


@SETTINGS
@given(case=env_data())
def test_env_files_read_back_every_value_or_refuse_it_by_name(tmp_path_factory, case):
    fmt, data, marks, refused_names = case
    where = "/etc/app/app.env"
    try:
        text = to_config(data, fmt, file=where)
    except AnsibleFilterError as err:
        event(f"{fmt}: refused")
        problems = config_problems(data, fmt, file=where)
        assert refused_names, f"refused what {fmt} can carry: {problems}"
        _assert_refusal(str(err), problems, refused_names, marks, where)
        return
    event(f"{fmt}: written and read back")
    assert not refused_names, f"wrote what {fmt} cannot carry: {refused_names}"
    path = _write(tmp_path_factory.mktemp("env"), "# a comment\n" + text, ".env")
    assert read_systemd_env(path) == data
    if fmt == "dotenv":
        assert read_dotenv(path) == data
    # The role's own reader (secret_store reads its files back with it) agrees.
    assert from_env_file(path.read_bytes().decode("utf-8")) == {"variables": data, "comments": ["# a comment"]}


def _env_carriable(text: str) -> str:
    """Hostile text made into what both env readers can carry: quotes, $, backticks, newlines, backslashes stay."""
    text = "".join(char for char in text if not systemd_character_problem(char)).replace("\r", "")
    return text.replace("${", "$ {") + ("x" if text.endswith("\\") else "")


@SETTINGS
@given(values=st.lists(hostile_text.map(_env_carriable), min_size=1, max_size=5))
def test_env_files_carry_every_value_they_can_intact(tmp_path_factory, monkeypatch_session, values):
    data = {f"VAR_{index}": value for index, value in enumerate(values)}
    for fmt in ("dotenv", "systemd"):
        path = _write(tmp_path_factory.mktemp("env"), to_config(data, fmt), ".env")
        assert read_systemd_env(path) == data
        assert read_dotenv(path) == data


@pytest.fixture(scope="module")
def monkeypatch_session():
    """Names python-dotenv would look up if a value were expanded: set, so an expansion would show."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", "/home/expanded")
        patch.setenv("X", "expanded-x")
        yield patch


def test_dollar_and_backticks_stay_literal_in_both_readers(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", "/home/expanded")
    data = {"A": "tok-$HOME-`id`-$(id)", "B": "it's $HOME", "C": "C:\\path\\", "D": "line1\nline2 '$x'"}
    text = to_config({k: v for k, v in data.items() if k != "C"}, "dotenv")
    assert "A='tok-$HOME-`id`-$(id)'" in text.splitlines()
    path = _write(tmp_path, text, ".env")
    assert read_dotenv(path) == read_systemd_env(path) == {k: v for k, v in data.items() if k != "C"}
    path = _write(tmp_path, to_config(data, "systemd"), ".service.env")
    assert read_systemd_env(path) == data


def test_dotenv_refuses_what_python_dotenv_would_expand(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", "/home/expanded")
    value = "tok-${HOME}-9c1d"
    # Positive control: python-dotenv expands ${HOME} even in single quotes, so no quoting could carry it.
    probe = _write(tmp_path, f"A='{value}'\nB=\"{value}\"\n", ".env")
    assert read_dotenv(probe) == {"A": "tok-/home/expanded-9c1d", "B": "tok-/home/expanded-9c1d"}
    with pytest.raises(AnsibleFilterError) as refused:
        to_config({"API_TOKEN": value}, "dotenv", file="/etc/app/app.env")
    assert "/etc/app/app.env" in str(refused.value) and "API_TOKEN" in str(refused.value)
    assert value not in str(refused.value) and "9c1d" not in str(refused.value)
    # A systemd env file carries it: systemd expands nothing.
    path = _write(tmp_path, to_config({"API_TOKEN": value}, "systemd"), ".env")
    assert read_systemd_env(path) == {"API_TOKEN": value}


def test_env_reader_cannot_be_fooled_by_a_value_that_looks_like_lines(tmp_path):
    forged = "x\n# apiauth.saas metadata: {\"valid_until\": \"2099-01-01\"}\nOTHER='injected'"
    text = "# apiauth.saas metadata: {\"valid_until\": \"2030-01-01\"}\n" + to_config({"A": forged, "B": "b"}, "systemd")
    parsed = from_env_file(text)
    assert parsed == {"variables": {"A": forged, "B": "b"},
                      "comments": ["# apiauth.saas metadata: {\"valid_until\": \"2030-01-01\"}"]}
    path = _write(tmp_path, text, ".env")
    assert read_systemd_env(path) == read_dotenv(path) == {"A": forged, "B": "b"}


def test_env_reader_reads_files_the_former_release_wrote():
    # NAME="value" with JSON string escapes: the only escapes it wrote were \" and \\ (it refused control characters).
    legacy = '# Written by apiauth.saas.secret_store; changes here are overwritten.\nA="say \\"hi\\" \\\\o/"\nB="é"\n'
    assert from_env_file(legacy)["variables"] == {"A": 'say "hi" \\o/', "B": "é"}


def test_env_reader_says_what_is_wrong_without_the_text():
    with pytest.raises(AnsibleFilterError) as broken:
        from_env_file("A='unterminated-s3cr3t-value\n")
    assert "unterminated single quote" in str(broken.value) and "s3cr3t" not in str(broken.value)


# YAML and JSON -----------------------------------------------------------------------------------

json_data = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | hostile_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(key_text, children, max_size=3),
    max_leaves=12,
)


@SETTINGS
@given(data=st.dictionaries(key_text, json_data, min_size=1, max_size=4), indent=st.sampled_from([2, 4]),
       sort_keys=st.booleans())
def test_yaml_reads_back_every_value(tmp_path_factory, data, indent, sort_keys):
    text = to_config(data, "yaml", indent=indent, sort_keys=sort_keys)
    assert read_yaml(_write(tmp_path_factory.mktemp("yaml"), "---\n# header\n" + text, ".yaml")) == data


@SETTINGS
@given(data=st.dictionaries(key_text, json_data, min_size=1, max_size=4), indent=st.sampled_from([2, 4]),
       sort_keys=st.booleans())
def test_json_reads_back_every_value(tmp_path_factory, data, indent, sort_keys):
    text = to_config(data, "json", indent=indent, sort_keys=sort_keys)
    assert read_json(_write(tmp_path_factory.mktemp("json"), text, ".json")) == data


def test_yaml_line_separators_survive():
    # Positive control: PyYAML's own dump with allow_unicode (as to_nice_yaml) loses them.
    import yaml  # pylint: disable=import-outside-toplevel

    data = {"token": "a\x85b\u2028c\u2029d"}
    plain = yaml.safe_dump(data, allow_unicode=True)
    assert yaml.safe_load(plain) != data
    assert yaml.safe_load(to_config(data, "yaml")) == data


class _StickyText(str):
    """Text whose str() is itself, as ansible-core 2.17's and 2.18's unsafe text behaves."""

    def __str__(self):  # pylint: disable=invalid-str-returned
        return self


def test_text_subclasses_write_as_plain_text_in_every_format():
    import yaml  # pylint: disable=import-outside-toplevel

    data = {_StickyText("client_id"): _StickyText("id-1"), "nested": {_StickyText("k"): [_StickyText("v")]}}
    # Positive control: the safe dumper refuses such text, as it did on ansible-core 2.17.
    with pytest.raises(yaml.representer.RepresenterError):
        yaml.safe_dump({_StickyText("client_id"): "x"})
    assert yaml.safe_load(to_config(data, "yaml")) == {"client_id": "id-1", "nested": {"k": ["v"]}}
    for fmt in ("yaml", "json", "dotenv", "systemd"):
        flat = {"client_id": data[_StickyText("client_id")]} if fmt in ("dotenv", "systemd") else data
        assert config_problems(flat, fmt) == [], fmt


def test_json_and_yaml_refuse_by_name_what_they_cannot_write():
    with pytest.raises(AnsibleFilterError) as refused:
        to_config({"a": {"b": float("nan")}}, "json", file="/etc/app/app.json")
    assert "/etc/app/app.json" in str(refused.value)
    assert config_problems({"a": {1: "x", "1": "y"}}, "json", file="f.json") == [
        "f.json: a.1: two keys have this name in json."]
    assert config_problems({"a": {"b": {1, 2}}}, "yaml") == ["a.b: a set cannot be written to yaml."]


# Fingerprints (secret_store's diff) ------------------------------------------------------------------

@settings(max_examples=500, deadline=None)
@given(one=hostile_text, two=hostile_text)
def test_fingerprints_differ_for_different_values_and_never_show_them(one, two):
    first, second = fingerprint(one), fingerprint(two)
    assert first.startswith("sha256:") and len(first) == len("sha256:") + 12
    assert re.fullmatch(r"sha256:[0-9a-f]{12}", first)
    assert (first == second) == (one == two)


def test_fingerprint_of_a_number_is_that_of_its_text():
    assert fingerprint(5) == fingerprint("5")


def test_unknown_format_is_refused():
    with pytest.raises(AnsibleFilterError, match="the format must be one of"):
        to_config({"a": "b"}, "toml")


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.to_config,
    pytest.mark.config_problems,
    pytest.mark.from_env_file,
]
