"""The standard readers of the formats the roles write, for the adversarial format tests.

Each reads a file from disk as an application would: configparser (ConfigParser, or
RawConfigParser without interpolation), yaml.safe_load, json.load, python-dotenv's dotenv_values,
and systemd's EnvironmentFile=. No systemd runs on the test machines, so the last is an oracle
written here from the rules systemd.exec(5) documents for EnvironmentFile= (quoted below), not
from systemd's source and not from the collection's own reader (module_utils/_config_formats.py):

  "The text file should contain newline-separated variable assignments. Empty lines, lines
  without an "=" separator, or lines starting with ";" or "#" will be ignored [...]. The file
  must be encoded with UTF-8. Valid characters are unicode scalar values other than unicode
  noncharacters, U+0000 NUL, and U+FEFF unicode byte order mark. Control codes other than NUL
  are allowed.

  In the file, an unquoted value after the "=" is parsed with the same backslash-escape rules as
  POSIX shell unquoted text, but unlike in a shell, interior whitespace is preserved and quotes
  after the first non-whitespace character are preserved. Leading and trailing whitespace
  (space, tab, carriage return) is discarded, but interior whitespace within the line is
  preserved verbatim. A line ending with a backslash will be continued to the following one,
  with the newline itself discarded. A backslash "\\" followed by any character other than
  newline will preserve the following character [...].

  In the file, a "'"-quoted value after the "=" can span multiple lines and contain any
  character verbatim other than single quote [...]. No backslash-escape sequences are
  recognized. Leading and trailing whitespace outside of the single quotes is discarded.

  In the file, a '"'-quoted value after the "=" can span multiple lines, and the same escape
  sequences are recognized as in POSIX shell double-quoted text. Backslash ("\\") followed by
  any of '"\\`$' will preserve that character. A backslash followed by newline is a line
  continuation, and the newline itself is discarded. A backslash followed by any other
  character is ignored; both the backslash and the following character are preserved verbatim.
  Leading and trailing whitespace outside of the double quotes is discarded."

Variable names: systemd accepts names of letters, digits and "_" not starting with a digit
(the names environ(7) and the shell allow) and ignores other assignments with a warning.

The oracle is strict: what the documentation leaves open (text after a closing quote, an
unterminated quote, a name systemd would ignore) raises UnclearEnvFile, so a test fails when
the collection writes anything whose meaning the documentation does not settle.
"""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path

import yaml

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ENV_WHITESPACE = " \t\r"


class UnclearEnvFile(ValueError):
    """The file holds something systemd.exec(5) does not give a meaning to, or that systemd refuses."""


def systemd_character_problem(text: str) -> str | None:
    for char in text:
        point = ord(char)
        if point == 0:
            return "NUL"
        if 0xD800 <= point <= 0xDFFF:
            return "surrogate"
        if point == 0xFEFF:
            return "byte order mark"
        if 0xFDD0 <= point <= 0xFDEF or (point & 0xFFFE) == 0xFFFE:
            return "noncharacter"
    return None


def read_systemd_env(path: Path) -> dict[str, str]:
    """Variables of an EnvironmentFile=, by the documented rules."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UnclearEnvFile("not UTF-8") from err
    problem = systemd_character_problem(text)
    if problem:
        raise UnclearEnvFile(f"invalid character: {problem}")
    lines = text.split("\n")
    variables: dict[str, str] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip(_ENV_WHITESPACE) or line[0] in "#;":
            continue
        if "=" not in line:
            continue
        name, rest = line.split("=", 1)
        name = name.strip(" \t")
        if not _NAME.match(name):
            raise UnclearEnvFile(f"systemd ignores the name {name!r}")
        rest = rest.lstrip(" \t")
        if rest.startswith("'"):
            body = rest[1:]
            while "'" not in body:
                if index >= len(lines):
                    raise UnclearEnvFile("unterminated single quote")
                body += "\n" + lines[index]
                index += 1
            value, after = body.split("'", 1)
        elif rest.startswith('"'):
            value, after, index = _double_quoted(rest[1:], lines, index)
        else:
            value, index = _unquoted(rest, lines, index)
            after = ""
        if after.strip(_ENV_WHITESPACE):
            raise UnclearEnvFile("text after a closing quote")
        variables[name] = value
    return variables


def _double_quoted(body: str, lines: list[str], index: int) -> tuple[str, str, int]:
    value = []
    position = 0
    while True:
        if position >= len(body):
            if index >= len(lines):
                raise UnclearEnvFile("unterminated double quote")
            body += "\n" + lines[index]
            index += 1
            continue
        char = body[position]
        if char == '"':
            return "".join(value), body[position + 1:], index
        if char == "\\":
            if position + 1 >= len(body):
                if index >= len(lines):
                    raise UnclearEnvFile("backslash at the end of the file")
                body += "\n" + lines[index]
                index += 1
                continue
            following = body[position + 1]
            if following != "\n":  # a backslash and a newline: a continuation, both discarded
                value.append(following if following in '"\\`$' else char + following)
            position += 2
            continue
        value.append(char)
        position += 1


def _unquoted(rest: str, lines: list[str], index: int) -> tuple[str, int]:
    value = []
    line = rest
    while True:
        position = 0
        continued = False
        while position < len(line):
            char = line[position]
            if char == "\\":
                if position + 1 == len(line):
                    continued = True
                    break
                value.append(line[position + 1])
                position += 2
                continue
            value.append(char)
            position += 1
        if not continued:
            break
        if index >= len(lines):
            raise UnclearEnvFile("backslash at the end of the file")
        line = lines[index]
        index += 1
    return "".join(value).strip(_ENV_WHITESPACE), index


def read_dotenv(path: Path) -> dict[str, str | None]:
    """python-dotenv as an application calls it (interpolation on, its default); a line it cannot parse fails."""
    import dotenv  # pylint: disable=import-outside-toplevel
    from dotenv.parser import parse_stream  # pylint: disable=import-outside-toplevel

    with path.open(encoding="utf-8") as stream:
        errors = [binding.original.line for binding in parse_stream(stream) if binding.error]
    if errors:
        raise ValueError(f"python-dotenv could not parse the statements at lines {errors}")
    return dict(dotenv.dotenv_values(path))


def read_ini(path: Path, interpolation: str = "basic") -> dict[str, dict[str, str]]:
    """Every section (the default one under its name) with its options as configparser gives them."""
    parser = configparser.ConfigParser() if interpolation == "basic" else configparser.RawConfigParser()
    parser.read(path, encoding="utf-8")
    result = {name: {key: parser.get(name, key) for key in parser.options(name)} for name in parser.sections()}
    defaults = {key: parser.get(parser.default_section, key) for key in parser.defaults()}
    if defaults:
        result[parser.default_section] = defaults
    return result


def read_yaml(path: Path):
    with path.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def read_json(path: Path):
    with path.open(encoding="utf-8") as stream:
        return json.load(stream)
