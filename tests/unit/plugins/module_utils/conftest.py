# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the engine's unit tests."""

from __future__ import annotations

import pytest
import trustme


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    """A throwaway certificate authority and its PEM file, for the scripted HTTPS servers."""
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, str(path)
