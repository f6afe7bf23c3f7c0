# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one reader of key and certificate files: bounded, PEM block choice, and what its users make of it."""

from __future__ import annotations

import os

import pytest

from ansible_collections.apiauth.saas.plugins.module_utils import _token_service
from ansible_collections.apiauth.saas.plugins.module_utils._errors import KeyMaterialError
from ansible_collections.apiauth.saas.plugins.module_utils._fileio import NotRegularFileError
from ansible_collections.apiauth.saas.plugins.module_utils._pem import (
    MAX_MATERIAL_BYTES,
    first_pem_block,
    read_material,
)

CERT_A = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
CERT_B = b"-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n"
KEY = b"-----BEGIN PRIVATE KEY-----\nKKKK\n-----END PRIVATE KEY-----\n"


def test_read_is_bounded_at_limit_plus_one(tmp_path):
    path = tmp_path / "big.pem"
    path.write_bytes(b"x" * 5000)
    assert os.path.getsize(path) == 5000  # positive control: the file really is larger than the bound
    assert read_material(str(path), 100) == b"x" * 101
    path.write_bytes(b"y" * 100)
    assert read_material(str(path), 100) == b"y" * 100


def test_read_errors_are_os_errors_for_the_caller_to_name(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_material(str(tmp_path / "absent.pem"))
    with pytest.raises(NotRegularFileError):
        read_material(str(tmp_path))


def test_read_follows_a_link_the_user_chose(tmp_path):
    target = tmp_path / "real.pem"
    target.write_bytes(CERT_A)
    link = tmp_path / "mounted.pem"
    os.symlink(target, link)
    assert os.path.islink(link)
    assert read_material(str(link)) == CERT_A


def test_first_pem_block_picks_the_first_of_its_label():
    data = KEY + CERT_A + CERT_B
    assert first_pem_block(data, "CERTIFICATE") == CERT_A.rstrip(b"\n")
    assert first_pem_block(data, "PRIVATE KEY") == KEY.rstrip(b"\n")
    assert first_pem_block(CERT_A, "PRIVATE KEY") is None
    assert first_pem_block(b"no pem here", "CERTIFICATE") is None


def test_cache_key_material_over_the_bound_is_refused_naming_the_option(tmp_path):
    cert = tmp_path / "chain.pem"
    cert.write_bytes(CERT_A + b"#" * MAX_MATERIAL_BYTES)
    assert os.path.getsize(cert) > MAX_MATERIAL_BYTES  # positive control: over the bound
    with pytest.raises(KeyMaterialError) as caught:
        _token_service._client_cert_material({"client_cert": str(cert)})  # pylint: disable=protected-access
    assert "client_cert" in str(caught.value) and str(cert) in str(caught.value)
    cert.write_bytes(CERT_A)
    assert _token_service._client_cert_material({"client_cert": str(cert)}) == [CERT_A.decode()]  # pylint: disable=protected-access
