# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What expires when: certificates, cached tokens, keys held in stores, recovery files left behind.

Internal to the collection: no stability promise to code outside it.

The report reads only what is public or metadata: a certificate's dates and
public key, a private key only to compare its public half with the
certificate's (never returned, never kept), the clear metadata of token cache
entries (nothing is decrypted, no cache key is needed or read), the
``valid_until`` of keys the caller names, and of a recovery file its age and
the few fields known not to be secret. Every value a credential report shows
is built here from an allow-list, so a field added to a recovery record or a
cache envelope later cannot slip into it.

Statuses, worst first: ``invalid`` (cannot be used whatever its date: a key
that does not fit its certificate, a certificate or key that cannot be read, a
certificate not yet valid), ``expired`` (past its expiry; a recovery file is
``expired`` from the moment it is written: a secret that should have gone to
its store and been deleted), ``expiring`` (within ``warn_days``), ``ok``.
Cached tokens are never ``expiring``: the token modules renew them by
themselves, an expired one is only a cache miss, so they never trigger
``fail_on``.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import re
import stat

from ansible_collections.apiauth.saas.plugins.module_utils._cache_files import default_cache_dir, list_entries
from ansible_collections.apiauth.saas.plugins.module_utils._certs import (
    certificate_matches_key,
    certificate_validity,
    key_file_warning,
    load_certificate,
)
from ansible_collections.apiauth.saas.plugins.module_utils._errors import ApiAuthError, OptionError, ReportError
from ansible_collections.apiauth.saas.plugins.module_utils._fileio import open_regular, read_limited
from ansible_collections.apiauth.saas.plugins.module_utils._pem import MAX_MATERIAL_BYTES, read_material

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
except ImportError:  # pragma: no cover - depends on the controller
    HAS_CRYPTOGRAPHY = False
else:
    HAS_CRYPTOGRAPHY = True

STATUSES = ("invalid", "expired", "expiring", "ok")
FAIL_ON = {
    "expiring": ("invalid", "expired", "expiring"),
    "expired": ("invalid", "expired"),
    "never": (),
}
# Kinds that a person must act on; a cached token renews itself (see the module docstring).
SELF_RENEWING = ("token",)
# Fields of a recovery record that name what it holds without being a secret.
RECOVERY_PUBLIC_FIELDS = ("tenant_id", "environment", "client_id", "name", "id", "valid_until", "written_at",
                          "created", "secret_updated", "correlation_id")
# Names of the secret fields of the collection's recovery records: shown by name (what the file holds).
# Any other field name is only counted, since a file dropped there by something else may use a secret as a name.
RECOVERY_SECRET_FIELDS = ("api_key", "client_secret", "secret_key", "access_token", "private_key")
_MAX_RECOVERY_BYTES = 1024 * 1024
_PEM_KEY = re.compile(rb"-----BEGIN ([A-Z ]*PRIVATE KEY)-----.+?-----END \1-----", re.S)
_DAY = 86400.0

ARGUMENT_SPEC = {
    "certificates": {
        "type": "list", "elements": "dict", "default": [],
        "options": {
            "path": {"type": "path", "required": True},
            "key": {"type": "path", "no_log": False},
            "key_passphrase": {"type": "str", "no_log": True},
            "name": {"type": "str"},
        },
    },
    "keys": {
        "type": "list", "elements": "dict", "default": [], "no_log": False,
        "options": {
            "name": {"type": "str", "required": True},
            "valid_until": {"type": "raw"},
            "location": {"type": "str"},
            "kind": {"type": "str", "default": "api_key"},
            "present": {"type": "bool", "default": True},
        },
    },
    "recovery_dir": {"type": "path"},
    "recovery_files": {"type": "list", "elements": "path", "default": []},
    "warn_days": {"type": "int", "default": 30},
    "fail_on": {"type": "str", "default": "expiring", "choices": list(FAIL_ON)},
}


def iso(moment: datetime.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value, what: str) -> datetime.datetime | None:
    """An ISO 8601 time (a date alone is its midnight UTC; no zone means UTC) or epoch seconds; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise OptionError(f"{what} must be an ISO 8601 time, epoch seconds or null, not {value!r}.")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise OptionError(f"{what} must be a finite time.")
        return datetime.datetime.fromtimestamp(float(value), tz=datetime.timezone.utc)
    if isinstance(value, datetime.datetime):
        parsed = value
    elif isinstance(value, datetime.date):
        parsed = datetime.datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        try:
            parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise OptionError(f"{what} is not an ISO 8601 time such as 2027-01-31T00:00:00Z: {text[:64]!r}.",
                              hint="Give the expiry as ISO 8601 text, epoch seconds, or null for a key that "
                                   "never expires.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


def judge(expires_at: datetime.datetime | None, now: datetime.datetime, warn_days: int) -> str:
    if expires_at is None:
        return "ok"
    if expires_at <= now:
        return "expired"
    if expires_at - now <= datetime.timedelta(days=warn_days):
        return "expiring"
    return "ok"


def days_left(expires_at: datetime.datetime | None, now: datetime.datetime):
    if expires_at is None:
        return None
    return round((expires_at - now).total_seconds() / _DAY, 1) + 0.0  # never -0.0


def _entry(name: str, kind: str, location: str, expires_at, now, status: str, **details) -> dict:
    return dict(details, name=name, kind=kind, location=location, expires_at=iso(expires_at),
                days_left=days_left(expires_at, now), status=status)


def _public_key_der(key) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _common_name(name) -> str | None:
    try:
        values = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    except Exception:  # pylint: disable=broad-except
        return None
    return str(values[0].value) if values else None


def _load_private_key(path: str, passphrase):
    """The private key object in ``path`` (PEM, alone or in a bundle, or DER), for its public half only.

    Raises ReportError with a message naming the file, never its content.
    """
    try:
        data = read_material(path)
    except OSError as exc:
        raise ReportError(f"Cannot read the key {path}: {exc.strerror or type(exc).__name__}.") from None
    if len(data) > MAX_MATERIAL_BYTES:
        raise ReportError(f"The key {path} is too large to be a private key file.")
    match = _PEM_KEY.search(data)
    blob, loader = (match.group(0), serialization.load_pem_private_key) if match else \
        (data, serialization.load_der_private_key)
    if isinstance(passphrase, str):
        passphrase = passphrase.encode("utf-8") or None
    try:
        return loader(blob, password=None)
    except TypeError:
        pass  # encrypted
    except Exception:  # pylint: disable=broad-except
        raise ReportError(f"The key {path} holds no readable private key (PEM or DER expected).") from None
    if not passphrase:
        raise ReportError(f"The key {path} is encrypted: set key_passphrase to check it against its certificate.")
    try:
        return loader(blob, password=passphrase)
    except Exception:  # pylint: disable=broad-except
        raise ReportError(f"The key {path} could not be decrypted with key_passphrase (wrong passphrase or damaged "
                          "file).") from None


def certificate_entry(spec: dict, now, warn_days: int, warnings: list) -> dict:
    path = os.path.abspath(os.path.expanduser(spec["path"]))
    name = spec.get("name") or os.path.basename(path)
    key_path = spec.get("key")
    details = {"key_given": bool(key_path), "key_matches": None, "problems": []}
    if key_path:
        key_path = os.path.abspath(os.path.expanduser(key_path))
        details["key_path"] = key_path
    try:
        cert = load_certificate(path, what="certificate")
    except ApiAuthError as exc:
        details["problems"].append(str(exc))
        return _entry(name, "certificate", path, None, now, "invalid", **details)
    not_before, not_after = certificate_validity(cert)
    details.update(
        subject=_common_name(cert.subject) or cert.subject.rfc4514_string(),
        issuer=_common_name(cert.issuer) or cert.issuer.rfc4514_string(),
        serial_number=format(cert.serial_number, "x"),
        not_before=iso(not_before),
        fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex(),
    )
    if not_before > now:
        details["problems"].append(f"not valid before {iso(not_before)}")
    if key_path:
        warning = key_file_warning(key_path, f"The key of certificate {name}:")
        if warning:
            warnings.append(warning)
        try:
            private_key = _load_private_key(key_path, spec.get("key_passphrase"))
        except ReportError as exc:
            details["problems"].append(str(exc))
        else:
            try:
                details["key_matches"] = certificate_matches_key(path, private_key, what="certificate")
            except ApiAuthError as exc:
                details["problems"].append(str(exc))
            else:
                if not details["key_matches"]:
                    details["problems"].append(f"the key {key_path} does not fit the certificate (another public "
                                               "key)")
    status = "invalid" if details["problems"] else judge(not_after, now, warn_days)
    return _entry(name, "certificate", path, not_after, now, status, **details)


def token_entries(cache_dir: str, now) -> list:
    if os.path.exists(cache_dir) and not os.path.isdir(cache_dir):
        raise OptionError(f"cache_dir {cache_dir} is not a directory.",
                          hint="Point cache_dir at the token cache directory, or set cache: false.")
    out = []
    for meta in list_entries(cache_dir):
        # Only named, public fields: never the entry's name (it is derived from the secret's keyed hash).
        expires = None if meta.get("expires_at") is None else \
            datetime.datetime.fromtimestamp(meta["expires_at"], tz=datetime.timezone.utc)
        obtained = None if meta.get("obtained_at") is None else \
            datetime.datetime.fromtimestamp(meta["obtained_at"], tz=datetime.timezone.utc)
        vendor, host, client_id = meta.get("vendor"), meta.get("host"), meta.get("client_id")
        label = " ".join(part for part in (vendor or "token", client_id or meta.get("client_ref")) if part)
        out.append(_entry(
            label, "token", host or cache_dir, expires, now,
            "expired" if expires is not None and expires <= now else "ok",
            vendor=vendor, host=host, client_id=client_id, obtained_at=iso(obtained), cache_dir=cache_dir,
            renewal="automatic",
        ))
    return out


def key_entry(index: int, spec: dict, now, warn_days: int) -> dict:
    name = spec["name"]
    expires = parse_time(spec.get("valid_until"), f"keys[{index}].valid_until ({name})")
    problems = [] if spec.get("present", True) else ["not found where it is kept"]
    return _entry(name, spec.get("kind") or "api_key", spec.get("location") or "", expires, now,
                  "invalid" if problems else judge(expires, now, warn_days), valid_until=iso(expires),
                  problems=problems)


def _recovery_summary(path: str) -> tuple:
    """``(public fields, field names)`` of a recovery file, read without following a link; values of other fields are never kept."""
    try:
        # Checked on the open file: the name may have been swapped since it was examined.
        fd = open_regular(path, follow_links=False)
    except OSError:
        return {}, []
    try:
        data = read_limited(fd, _MAX_RECOVERY_BYTES)
    except OSError:
        data = None
    finally:
        os.close(fd)
    try:
        document = json.loads(data.decode("utf-8")) if data else None
    except (UnicodeDecodeError, ValueError):
        document = None
    if not isinstance(document, dict):
        return {}, []
    public = {}
    for field in RECOVERY_PUBLIC_FIELDS:
        value = document.get(field)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool) and len(str(value)) <= 200:
            public[field] = value
    known = set(RECOVERY_PUBLIC_FIELDS) | set(RECOVERY_SECRET_FIELDS)
    names = sorted(field for field in document if field in known)
    others = sum(1 for field in document if field not in known)
    if others:
        names.append(f"({others} other field{'s' if others > 1 else ''})")
    return public, names


def recovery_entry(path: str, now) -> dict | None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return _entry(os.path.basename(path), "recovery_file", path, None, now, "invalid",
                      problems=[f"cannot examine it: {exc.strerror}"])
    if stat.S_ISDIR(info.st_mode):
        return None
    written = datetime.datetime.fromtimestamp(info.st_mtime, tz=datetime.timezone.utc)
    problems = ["left behind: it holds a secret that was not delivered, or was delivered and not deleted; "
                "store it (the playbook that wrote it says how) and delete the file"]
    details = {"written_at": iso(written), "age_days": round((now - written).total_seconds() / _DAY, 1),
               "mode": f"{stat.S_IMODE(info.st_mode):04o}", "problems": problems}
    if stat.S_ISLNK(info.st_mode):
        problems.append("it is a symbolic link, which no module writes")
    elif stat.S_ISREG(info.st_mode):
        public, fields = _recovery_summary(path)
        details["holds"] = fields
        details.update({f"record_{name}": value for name, value in public.items()})
        if info.st_mode & 0o077:
            problems.append(f"mode {details['mode']} lets other users read it")
    return _entry(os.path.basename(path), "recovery_file", path, written, now, "expired", **details)


def recovery_entries(directory, files, now) -> list:
    paths = []
    if directory:
        directory = os.path.abspath(os.path.expanduser(directory))
        try:
            names = sorted(os.listdir(directory))
        except FileNotFoundError:
            names = []  # no directory, nothing left behind
        except OSError as exc:
            raise ReportError(f"Cannot list the recovery directory {directory}: {exc.strerror}.",
                              hint="Give recovery_dir a directory you can read.") from None
        paths.extend(os.path.join(directory, name) for name in names)
    paths.extend(os.path.abspath(os.path.expanduser(path)) for path in files)
    seen, out = set(), []
    for path in paths:
        if path in seen:
            continue
        seen.add(path)
        entry = recovery_entry(path, now)
        if entry is not None:
            out.append(entry)
    return out


def _sort_key(entry: dict):
    # ISO 8601 UTC text in one format sorts as time does, to the second (days_left is rounded).
    return (entry["expires_at"] is None, entry["expires_at"] or "", entry["kind"], entry["name"], entry["location"])


def alert_line(entry: dict) -> str:
    when = "no expiry" if entry["expires_at"] is None else f"expires {entry['expires_at']}"
    if entry["kind"] == "recovery_file":
        when = f"written {entry['expires_at']}"
    extra = f" ({'; '.join(entry['problems'])})" if entry.get("problems") else ""
    where = f" at {entry['location']}" if entry["location"] else ""
    return f"{entry['status']}: {entry['kind']} {entry['name']}{where}, {when}{extra}"


def build_report(params: dict, *, now: datetime.datetime | None = None) -> tuple:
    """``(result, warnings)`` for the module's options; the result holds no secret by construction."""
    if not HAS_CRYPTOGRAPHY:
        raise ReportError("The cryptography Python library is needed on the controller to read certificates.")
    now = now or datetime.datetime.now(datetime.timezone.utc)
    warn_days = params.get("warn_days")
    warn_days = 30 if warn_days is None else warn_days
    if warn_days < 0:
        raise OptionError(f"warn_days must be 0 or more, not {warn_days}.")
    warnings: list = []
    credentials = [certificate_entry(spec, now, warn_days, warnings) for spec in params.get("certificates") or []]
    if params.get("cache", True):
        cache_dir = os.path.abspath(os.path.expanduser(params.get("cache_dir") or default_cache_dir()))
        credentials += token_entries(cache_dir, now)
    credentials += [key_entry(index, spec, now, warn_days) for index, spec in enumerate(params.get("keys") or [])]
    credentials += recovery_entries(params.get("recovery_dir"), params.get("recovery_files") or [], now)
    credentials.sort(key=_sort_key)
    counts = {status: 0 for status in STATUSES}
    for entry in credentials:
        counts[entry["status"]] += 1
    fail_on = params.get("fail_on") or "expiring"
    alerts = [alert_line(entry) for entry in credentials
              if entry["status"] in FAIL_ON[fail_on] and entry["kind"] not in SELF_RENEWING]
    result = {
        "changed": False,
        "credentials": credentials,
        "counts": counts,
        "alerts": alerts,
        "generated_at": iso(now),
        "warn_days": warn_days,
        "fail_on": fail_on,
    }
    if alerts:
        result["failed"] = True
        result["msg"] = (f"{len(alerts)} credential(s) need attention (fail_on={fail_on}, warn_days={warn_days}): "
                         + " | ".join(alerts))
    else:
        result["msg"] = (f"{len(credentials)} credential(s): " + ", ".join(f"{counts[s]} {s}" for s in STATUSES))
    return result, warnings


def report_task(params: dict) -> tuple:
    """The module's work, in the shape the adapters take: ``(result, holds_secret, warnings)``."""
    result, warnings = build_report(params)
    return result, False, warnings
