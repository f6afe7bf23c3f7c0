# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The text formats the roles write: INI, YAML, JSON, dotenv and systemd environment files.

Internal to the collection: no stability promise to code outside it.

One rule holds for every format: a value (and a key or section name) that is written comes back
exactly as it was given when the format's standard reader reads the file, or it is refused, by name,
with a message that never holds the value. The readers are:

- INI: Python's ``configparser`` with its defaults, ``ConfigParser`` (basic interpolation, so every
  ``%`` is written as ``%%``) or, with ``ini_interpolation='none'``, ``RawConfigParser``;
- YAML: ``yaml.safe_load``; JSON: ``json.loads``;
- dotenv: python-dotenv (``dotenv_values``, which expands ``${NAME}``) and systemd's
  ``EnvironmentFile=`` (systemd.exec(5)), both, since a dotenv file is often read by both;
- systemd: ``EnvironmentFile=`` alone.

Quoting keeps a value intact wherever the format allows it; only what a format cannot carry is
refused. Each renderer also reads its own output back (configparser, yaml, json, and the
EnvironmentFile= rules for env files) and refuses what does not come back unchanged, so a gap in
the rules below makes a refusal, never a wrong file.

No Ansible import here: the filter plugins are the adapters.
"""

from __future__ import annotations

import configparser
import datetime
import json
import re
from collections.abc import Mapping, Sequence

from ansible_collections.apiauth.saas.plugins.module_utils._errors import FormatRefused

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core; the import sanity test runs without it
    yaml = None

FORMATS = ("ini", "yaml", "json", "dotenv", "systemd")
INI_INTERPOLATIONS = ("basic", "none")

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# python-dotenv expands ${NAME} and ${NAME:-default} in every value, quoted or not, and has no
# escape for it. This is the wider pattern of its older releases, so no release expands a value.
_DOTENV_EXPANSION = re.compile(r"\$\{[^}]*\}")
# YAML 1.1 reads these as line breaks; PyYAML writes them raw unless the scalar is double-quoted.
_YAML_LINE_BREAKS = re.compile("[\x85\u2028\u2029]")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.-]+\Z")
_NAME_SHOWN_MAX = 60
_MISSING = object()


def show_name(name: object) -> str:
    """A key or section name as a message shows it: plain if it is plain, else JSON-quoted and cut."""
    text = name if isinstance(name, str) else str(name)
    if _PLAIN_NAME.match(text):
        return text
    shown = json.dumps(text, ensure_ascii=True)
    if len(shown) > _NAME_SHOWN_MAX:
        shown = shown[: _NAME_SHOWN_MAX - 4] + '..."'
    return shown


def render(data: object, fmt: str, *, ini_interpolation: str = "basic", indent: int = 2,
           sort_keys: bool = False) -> str:
    """The text of a file in format ``fmt`` holding ``data``; raises FormatRefused."""
    if fmt not in FORMATS:
        raise FormatRefused([f"the format must be one of {', '.join(FORMATS)}, not {show_name(fmt)}."])
    if fmt == "ini":
        if ini_interpolation not in INI_INTERPOLATIONS:
            raise FormatRefused([f"ini_interpolation must be one of {', '.join(INI_INTERPOLATIONS)}, "
                                 f"not {show_name(ini_interpolation)}."])
        return _render_ini(data, ini_interpolation, sort_keys)
    if fmt in ("dotenv", "systemd"):
        return _render_env(data, fmt, sort_keys)
    if fmt == "json":
        return _render_json(data, indent, sort_keys)
    return _render_yaml(data, indent, sort_keys)


def problems(data: object, fmt: str, **options) -> list[str]:
    """What ``render`` would refuse, as messages; empty when the data can be written."""
    try:
        render(data, fmt, **options)
    except FormatRefused as refused:
        return refused.problems
    return []


# Scalars -----------------------------------------------------------------------------------------

def _scalar_text(value: object) -> str | None:
    """The text a line-based format (INI, env) writes for a scalar; None for a container."""
    if value is None:
        return ""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (bool, int, float)):
        return str(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return None


def _encoding_problem(text: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text (it holds a lone surrogate)"
    return None


def _items(mapping: Mapping, sort_keys: bool) -> list:
    items = list(mapping.items())
    if sort_keys:
        items.sort(key=lambda item: str(item[0]))
    return items


# INI ---------------------------------------------------------------------------------------------

def _ini_section_problem(name: str) -> str | None:
    if not name:
        return "an empty section name cannot be written"
    if "\n" in name or "\r" in name:
        return "a section name cannot hold a line break"
    return _encoding_problem(name)


def _ini_key_problem(name: str) -> str | None:
    if not name:
        return "an empty option name cannot be written"
    if "\n" in name or "\r" in name:
        return "an option name cannot hold a line break"
    if "=" in name or ":" in name:
        return "an option name cannot hold '=' or ':' (configparser ends the name at the first one)"
    if name != name.strip():
        return "an option name cannot start or end with white space (configparser strips it)"
    if name[0] in "#;":
        return "an option name cannot start with '#' or ';' (configparser reads the line as a comment)"
    if name[0] == "[":
        return "an option name cannot start with '[' (configparser may read the line as a section)"
    return _encoding_problem(name)


def _ini_value_problem(text: str) -> str | None:
    if "\r" in text:
        return "the value holds a carriage return, which configparser reads as a line break"
    lines = text.split("\n")
    if any(line != line.strip() for line in lines):
        return "the value has white space at the start or end of a line, which configparser strips"
    if any(line[:1] in ("#", ";") for line in lines[1:]):
        return "a line of the value after the first starts with '#' or ';', which configparser drops as a comment"
    if len(lines) > 1 and not lines[-1]:
        return "the value ends with a line break, which configparser drops"
    return _encoding_problem(text)


def _render_ini(data: object, interpolation: str, sort_keys: bool) -> str:
    if not isinstance(data, Mapping):
        raise FormatRefused(["INI data must be a dict of sections, each a dict of options."])
    found: list[str] = []
    blocks: list[str] = []
    expected: dict[str, dict[str, str]] = {}
    for section, options in _items(data, sort_keys):
        section_name = str(section)
        where = f"section [{show_name(section_name)}]"
        problem = _ini_section_problem(section_name)
        if problem:
            found.append(f"{where}: {problem}.")
            continue
        if section_name in expected:
            found.append(f"{where}: two sections have this name.")
            continue
        if not isinstance(options, Mapping):
            found.append(f"{where}: must be a dict of options.")
            continue
        lines = [f"[{section_name}]"]
        expected[section_name] = {}
        seen: set[str] = set()
        for key, value in _items(options, sort_keys):
            key_name = str(key)
            where = f"[{show_name(section_name)}] {show_name(key_name)}"
            problem = _ini_key_problem(key_name)
            text = _scalar_text(value)
            if not problem and text is None:
                problem = f"the value is a {type(value).__name__}; INI values are text"
            if not problem and key_name.lower() in seen:
                problem = "configparser reads option names without case, and another option of the section has the same name"
            seen.add(key_name.lower())
            problem = problem or _ini_value_problem(text)
            if problem:
                found.append(f"{where}: {problem}.")
                continue
            expected[section_name][key_name.lower()] = text
            if interpolation == "basic":
                text = text.replace("%", "%%")
            first, *more = text.split("\n")
            lines.append(f"{key_name} = {first}")
            # Deeper indentation makes a line part of the value, never a section or an option of its own.
            lines.extend(f"\t{line}" if line else "" for line in more)
        blocks.append("\n".join(lines) + "\n")
    if found:
        raise FormatRefused(found)
    text = "\n".join(blocks)
    _verify_ini(text, expected, interpolation)
    return text


def _verify_ini(text: str, expected: dict[str, dict[str, str]], interpolation: str) -> None:
    reader = configparser.ConfigParser() if interpolation == "basic" else configparser.RawConfigParser()
    try:
        reader.read_string(text)
        default = reader.default_section
        read = {name: {key: reader.get(name, key) for key in reader.options(name)} for name in reader.sections()}
        read_defaults = dict(reader.defaults())
        if interpolation == "basic":
            read_defaults = {key: reader.get(default, key) for key in read_defaults}
    except (configparser.Error, ValueError) as err:
        raise FormatRefused([f"configparser cannot read the INI file written ({type(err).__name__})."]) from None
    defaults = expected.get(default, {})
    # configparser adds the options of its default section to every other section.
    wanted = {name: {**defaults, **options} for name, options in expected.items() if name != default}
    wanted[default] = defaults
    read[default] = read_defaults
    if set(read) != set(wanted):
        raise FormatRefused(["configparser reads other sections from the INI file than those given."])
    wrong = sorted(f"[{show_name(name)}] {show_name(key)}" for name, options in wanted.items()
                   for key in set(options) | set(read[name]) if read[name].get(key) != options.get(key))
    if wrong:
        raise FormatRefused([f"{where}: configparser does not read the value back unchanged." for where in wrong])


# Environment files -------------------------------------------------------------------------------

def _env_character_problem(text: str) -> str | None:
    """systemd.exec(5): valid characters are Unicode scalar values other than noncharacters, NUL and U+FEFF."""
    for char in text:
        point = ord(char)
        if point == 0:
            return "holds a NUL character, which an environment file cannot carry"
        if 0xD800 <= point <= 0xDFFF:
            return "is not valid Unicode text (it holds a lone surrogate)"
        if point == 0xFEFF:
            return "holds a byte order mark (U+FEFF), which systemd does not accept in an environment file"
        if 0xFDD0 <= point <= 0xFDEF or (point & 0xFFFE) == 0xFFFE:
            return "holds a Unicode noncharacter, which systemd does not accept in an environment file"
    return None


def _env_value_problem(text: str, fmt: str) -> str | None:
    problem = _env_character_problem(text)
    if problem:
        return f"the value {problem}"
    if fmt == "dotenv":
        if "\r" in text:
            return "the value holds a carriage return, which python-dotenv reads as a line break"
        if _DOTENV_EXPANSION.search(text):
            return "the value holds ${...}, which python-dotenv replaces with a variable whatever the quoting"
        if text.endswith("\\"):
            return "the value ends with a backslash, which python-dotenv before 1.2.3 misreads"
    return None


def quote_env(text: str) -> str:
    """A value as an env file holds it, for python-dotenv and systemd's EnvironmentFile= alike.

    Single quotes keep everything literal for both readers (and for a shell), but cannot hold a
    single quote, and python-dotenv reads a backslash pair in them; such values are double-quoted
    with only the two escapes both readers decode the same way: \\\\ and \\".
    """
    if "'" not in text and "\\" not in text:
        return f"'{text}'"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _render_env(data: object, fmt: str, sort_keys: bool) -> str:
    if not isinstance(data, Mapping):
        raise FormatRefused(["env file data must be a dict of names to values."])
    found: list[str] = []
    lines: list[str] = []
    expected: dict[str, str] = {}
    for name, value in _items(data, sort_keys):
        text_name = str(name)
        where = show_name(text_name)
        if not _ENV_NAME.match(text_name):
            found.append(f"{where}: the name must be a shell variable name (letters, digits and _, "
                         f"not starting with a digit).")
            continue
        text = _scalar_text(value)
        problem = (f"the value is a {type(value).__name__}; env values are text" if text is None
                   else _env_value_problem(text, fmt))
        if problem:
            found.append(f"{where}: {problem}.")
            continue
        expected[text_name] = text
        lines.append(f"{text_name}={quote_env(text)}\n")
    if found:
        raise FormatRefused(found)
    text = "".join(lines)
    try:
        read, _comments = parse_env(text)
    except ValueError:
        read = {}
    wrong = sorted(name for name in set(read) | set(expected) if read.get(name) != expected.get(name))
    if wrong:
        raise FormatRefused([f"{show_name(name)}: the env file would not read back unchanged." for name in wrong])
    return text


def parse_env(text: str) -> tuple[dict[str, str], list[str]]:
    """Variables and comment lines of an environment file, by systemd.exec(5)'s EnvironmentFile= rules.

    Reads every file this module writes, and hand-written ones: unquoted values with backslash
    escapes and continuation lines, single-quoted values taken verbatim, double-quoted values with
    the escapes \\" \\\\ \\` \\$ and line continuation. Comments are the lines that start with # or ;
    outside any value, so a value cannot forge one. A leading "export " is not part of the name.
    Raises ValueError on an unterminated quote.
    """
    variables: dict[str, str] = {}
    comments: list[str] = []
    pos, end = 0, len(text)
    while pos < end:
        char = text[pos]
        if char in " \t\r\n":
            pos += 1
            continue
        if char in "#;":
            start = pos
            while pos < end and text[pos] not in "\r\n":
                # systemd continues a comment whose line ends with a backslash.
                pos += 2 if text[pos] == "\\" and pos + 1 < end else 1
            comments.append(text[start:pos])
            continue
        key_end = pos
        while key_end < end and text[key_end] not in "=\r\n":
            key_end += 1
        if key_end >= end or text[key_end] != "=":
            pos = key_end  # a line without "=" is ignored
            continue
        name = text[pos:key_end].rstrip(" \t")
        if name.startswith("export") and name[6:7] in (" ", "\t"):
            # A file that a shell also sources: "export NAME=value" assigns NAME, as dotenv readers take it.
            name = name[6:].lstrip(" \t")
        value, pos = _parse_env_value(text, key_end + 1)
        variables[name] = value
    return variables, comments


def _parse_env_value(text: str, pos: int) -> tuple[str, int]:
    out: list[str] = []
    end = len(text)
    strip_from: int | None = None  # where unescaped trailing white space of an unquoted part begins
    unquoted = False
    while pos < end:
        char = text[pos]
        if unquoted:
            if char in "\r\n":
                break
            if char == "\\":
                if pos + 1 < end and text[pos + 1] == "\n":
                    pos += 2
                    continue
                if pos + 1 < end:
                    out.append(text[pos + 1])
                strip_from = None
                pos += 2
                continue
            if char in " \t":
                if strip_from is None:
                    strip_from = len(out)
            else:
                strip_from = None
            out.append(char)
            pos += 1
            continue
        if char in "\r\n":
            break
        if char in " \t":
            pos += 1
        elif char == "'":
            close = text.find("'", pos + 1)
            if close < 0:
                raise ValueError("unterminated single quote")
            out.append(text[pos + 1:close])
            pos = close + 1
        elif char == '"':
            pos += 1
            while True:
                if pos >= end:
                    raise ValueError("unterminated double quote")
                char = text[pos]
                if char == '"':
                    pos += 1
                    break
                if char == "\\" and pos + 1 < end:
                    following = text[pos + 1]
                    if following == "\n":
                        pass
                    elif following in '"\\`$':
                        out.append(following)
                    else:
                        out.append(char + following)
                    pos += 2
                    continue
                out.append(char)
                pos += 1
        else:
            unquoted = True
            strip_from = None
    if unquoted and strip_from is not None:
        del out[strip_from:]
    return "".join(out), pos + 1


# JSON and YAML -----------------------------------------------------------------------------------

def _exact_str(text: str) -> str:
    # str() of ansible-core's unsafe text (2.17, 2.18) gives unsafe text back, which
    # yaml.SafeDumper cannot represent; str.__str__ copies any str subclass into a str.
    return str.__str__(text)


def _plain(value: object, path: tuple, found: list[str], fmt: str) -> object:
    """Plain Python data (dict, list, str, numbers, None) from Ansible's containers and tagged strings."""
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                found.append(f"{_show_path(path + (key,))}: a {fmt} key must be text or a number.")
                continue
            plain_key = _json_key(key) if fmt == "json" else (_exact_str(key) if isinstance(key, str) else key)
            if plain_key in result:
                found.append(f"{_show_path(path + (plain_key,))}: two keys have this name in {fmt}.")
                continue
            result[plain_key] = _plain(item, path + (plain_key,), found, fmt)
        return result
    if isinstance(value, str):
        return _exact_str(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (datetime.date, datetime.time)):
        # As Ansible's to_json and to_yaml write them.
        return value if fmt == "yaml" and not isinstance(value, datetime.time) else value.isoformat()
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return [_plain(item, path + (index,), found, fmt) for index, item in enumerate(value)]
    found.append(f"{_show_path(path)}: a {type(value).__name__} cannot be written to {fmt}.")
    return None


def _show_path(path: tuple) -> str:
    if not path:
        return "the data"
    shown = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            shown += f"[{part}]"
        else:
            shown += ("." if shown else "") + show_name(part)
    return shown


def _differences(given: object, read: object, path: tuple = ()) -> list[str]:
    if isinstance(given, dict) and isinstance(read, dict):
        names = list(given) + [key for key in read if key not in given]
        return [where for key in names
                for where in _differences(given.get(key, _MISSING), read.get(key, _MISSING), path + (key,))]
    if isinstance(given, list) and isinstance(read, list) and len(given) == len(read):
        return [where for index, (one, two) in enumerate(zip(given, read))
                for where in _differences(one, two, path + (index,))]
    if type(given) is type(read) and given == read:
        return []
    return [_show_path(path)]


def _json_key(key: object) -> str:
    """A key as json.dumps writes it: every JSON key is a string."""
    if isinstance(key, str):
        return str(key)
    if isinstance(key, float):
        return float.__repr__(key)
    return json.dumps(key)


def _render_json(data: object, indent: int, sort_keys: bool) -> str:
    found: list[str] = []
    plain = _plain(data, (), found, "json")
    if found:
        raise FormatRefused(found)
    try:
        text = json.dumps(plain, indent=indent, sort_keys=sort_keys, separators=(",", ": "), ensure_ascii=True,
                          allow_nan=False)
    except (TypeError, ValueError):
        raise FormatRefused(["the data holds a number JSON cannot write (NaN or infinity), or keys of mixed types."]) \
            from None
    wrong = _differences(plain, json.loads(text))
    if wrong:
        raise FormatRefused([f"{where}: JSON would not read back unchanged." for where in wrong])
    return text


if yaml is not None:
    class _Dumper(yaml.SafeDumper):  # pylint: disable=too-many-ancestors
        """SafeDumper that double-quotes strings holding a character YAML reads as a line break."""

    def _represent_str(dumper, data):
        style = '"' if _YAML_LINE_BREAKS.search(data) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    _Dumper.add_representer(str, _represent_str)


def _render_yaml(data: object, indent: int, sort_keys: bool) -> str:
    if yaml is None:
        raise FormatRefused(["the Python library PyYAML is needed on the controller to write YAML."])
    found: list[str] = []
    plain = _plain(data, (), found, "yaml")
    if found:
        raise FormatRefused(found)
    text = yaml.dump(plain, Dumper=_Dumper, indent=indent, allow_unicode=True, default_flow_style=False,
                     sort_keys=sort_keys)
    try:
        read = yaml.load(text, Loader=yaml.SafeLoader)  # nosec - the safe loader, as yaml.safe_load
    except yaml.YAMLError:
        raise FormatRefused(["the YAML written cannot be read back."]) from None
    wrong = _differences(plain, read)
    if wrong:
        raise FormatRefused([f"{where}: YAML would not read back unchanged." for where in wrong])
    return text
