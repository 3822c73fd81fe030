"""Namespaces, IRI slug rules, and the ontology, vocabularies and shapes shipped as package data.

Files are read from the installed package (``innograph/_data``) or, in a source checkout, from
the repository's top-level folders; never from the network.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from rdflib import Graph, Namespace
from rdflib.namespace import SKOS
from rdflib.term import Node

from .prefixes import DEF
from .prefixes import PREFIXES as PREFIXES  # its users import it from here

IG = Namespace(DEF)
VOCAB = "https://w3id.org/innograph/vocab/"

_PACKAGE = Path(__file__).resolve().parent
_SOURCE_TREE = _PACKAGE.parent.parent


def _pair(pair: tuple[Node, Node]) -> tuple[str, str]:
    """A sort key for two rdflib terms (rdflib types its terms as not comparable)."""
    return str(pair[0]), str(pair[1])


def data_dir(name: str) -> Path:
    """The folder ``ontology`` or ``shapes``, from package data or the source tree."""
    for candidate in (_PACKAGE / "_data" / name, _SOURCE_TREE / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"innograph is installed without its {name}/ folder")


def slug(text: str) -> str:
    """The IRI slug of a label: ASCII, lower case, '&' as 'and', apostrophes dropped.

    >>> slug("Leadership from Metro Mayor")
    'leadership-from-metro-mayor'
    >>> slug("Idea generation & brainstorming")
    'idea-generation-and-brainstorming'
    >>> slug("Bogotá’s “Lab”")
    'bogotas-lab'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    lowered = re.sub(r"['’]", "", ascii_text.replace("&", " and ").lower())
    return re.sub(r"[^a-z0-9]+", "-", lowered).strip("-") or "unnamed"


def scheme_iri(scheme: str) -> str:
    return VOCAB + scheme


def concept_iri(scheme: str, concept_slug: str) -> str:
    return f"{VOCAB}{scheme}/{concept_slug}"


def vocabulary_files() -> list[Path]:
    return sorted((data_dir("ontology") / "vocabularies").glob("*.ttl"))


@cache
def vocabularies() -> Graph:
    """The SKOS schemes, as one rdflib graph."""
    graph = Graph()
    for path in vocabulary_files():
        graph.parse(path, format="turtle")
    return graph


@cache
def ontology() -> Graph:
    """The ontology, as one rdflib graph."""
    graph = Graph()
    for path in sorted(data_dir("ontology").glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


def scheme_labels() -> dict[str, list[tuple[str, str]]]:
    """Each scheme's (label, concept slug) pairs: preferred labels first, then variants, by
    concept IRI. The parser matches a page's wording against these."""
    graph = vocabularies()
    schemes: dict[str, list[tuple[str, str]]] = {}
    for concept, scheme in sorted(graph.subject_objects(SKOS.inScheme), key=_pair):
        scheme_name = str(scheme).removeprefix(VOCAB)
        concept_slug = str(concept).removeprefix(f"{VOCAB}{scheme_name}/")
        labels = schemes.setdefault(scheme_name, [])
        for predicate in (SKOS.prefLabel, SKOS.altLabel):
            labels += [
                (str(label), concept_slug)
                for label in sorted(graph.objects(concept, predicate), key=str)
            ]
    return schemes
