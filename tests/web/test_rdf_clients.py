"""Linked-data clients other than rdflib follow our IRIs: Raptor's ``rapper`` (Debian's
raptor2-utils) dereferences each kind of IRI with its own Accept header, follows the 303 and
parses the document it lands on."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import rdflib
from test_resources import request

from conftest import LiveServer

RAPPER = shutil.which("rapper")
pytestmark = pytest.mark.skipif(
    RAPPER is None, reason="no rapper: apt-get install raptor2-utils (as .ci/run does)"
)
PATHS = [
    "/id/city/liverpool-city-region",
    "/id/profile/liverpool-city-region/2020",
    "/graph/liverpool-city-region",
    "/vocab/policy-areas",
    "/vocab/policy-areas/health",
    "/def/Profile",
    "/def/",
]


def rapper(url: str, parser: str) -> tuple[int, str]:
    """(triples parsed, rapper's messages) for ``rapper -i PARSER -c URL``."""
    assert RAPPER is not None
    done = subprocess.run(
        [RAPPER, "-i", parser, "-c", url], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    counted = [line for line in done.stderr.splitlines() if "returned" in line]
    return int(counted[-1].split("returned ")[1].split()[0]), done.stderr


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("parser", ["turtle", "rdfxml", "ntriples", "guess"])
def test_rapper_dereferences_and_parses(live_server: LiveServer, path: str, parser: str) -> None:
    triples, _ = rapper(live_server.url + path, parser)
    document = "/def/index.nt" if path == "/def/" else f"{path}.nt"
    expected = len(rdflib.Graph().parse(data=request(live_server, document)[2], format="nt"))
    assert triples == expected > 0
