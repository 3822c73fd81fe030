"""The ontology (ontology/innograph.ttl) against itself and against the built seed.

It must document every term it declares, declare every ig: term the build emits, give each
property a domain and a range that the emitted literals fit, and stay consistent under the OWL RL
closure of ontology + SKOS schemes + data. Line numbers must point into their source document.
"""

from __future__ import annotations

from collections.abc import Iterator

import owlrl
import pytest
from owlrl.Namespaces import ERRNS
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD, Namespace
from rdflib.term import Node

from conftest import ROOT
from innograph.settings import Settings
from innograph.validation.inputs import rdflib_internal_deprecations_silenced
from innograph.vocab import IG

ONTOLOGY_FILE = ROOT / "ontology" / "innograph.ttl"
ONTOLOGY = URIRef(str(IG))
VANN = Namespace("http://purl.org/vocab/vann/")

PROPERTY_TYPES = (OWL.ObjectProperty, OWL.DatatypeProperty)
TERM_TYPES = (OWL.Class, *PROPERTY_TYPES, OWL.AnnotationProperty, OWL.NamedIndividual)
CONCEPT_LINKS = (IG.concept, IG.surveyWave, IG.siteVersion, IG.placementKind)
LINE_NUMBERS = (IG.sourceLine, IG.sourceLineEnd, IG.definitionLine, IG.truncatedAtLine)
# Oxigraph stores xsd:positiveInteger as xsd:integer, so the mapping writes xsd:integer.
INTEGER_TYPES = (XSD.integer, XSD.positiveInteger)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY_FILE, format="turtle")


@pytest.fixture(scope="module")
def dataset(seed_nquads: bytes) -> Dataset:
    """The served seed (``innograph dump``) in rdflib, named graphs and all."""
    dataset = Dataset(default_union=True)
    with rdflib_internal_deprecations_silenced():
        dataset.parse(data=seed_nquads.decode("utf-8"), format="nquads")
    return dataset


@pytest.fixture(scope="module")
def data(dataset: Dataset) -> Graph:
    """Every triple of the build (profile graphs, SKOS schemes and the ontology), in one graph."""
    graph = Graph()
    for named_graph in dataset.graphs():
        for triple in named_graph:
            graph.add(triple)
    return graph


def is_ig(node: Node) -> bool:
    return isinstance(node, URIRef) and str(node).startswith(str(IG))


def declared_terms(ontology: Graph) -> set[URIRef]:
    terms = {s for kind in TERM_TYPES for s in ontology.subjects(RDF.type, kind) if is_ig(s)}
    return terms | {ONTOLOGY, *(o for o in ontology.objects(ONTOLOGY, OWL.versionIRI) if is_ig(o))}


def documented_terms(ontology: Graph) -> Iterator[URIRef]:
    """The ig: terms that need a label, a definition and rdfs:isDefinedBy: all but the ontology."""
    yield from sorted(
        declared_terms(ontology) - {ONTOLOGY, *ontology.objects(ONTOLOGY, OWL.versionIRI)}
    )


def properties(ontology: Graph) -> list[URIRef]:
    return sorted(
        {s for kind in PROPERTY_TYPES for s in ontology.subjects(RDF.type, kind) if is_ig(s)}
    )


# --- a. the ontology itself ---------------------------------------------------------------------


def test_ontology_header(ontology: Graph) -> None:
    assert list(ontology.subjects(RDF.type, OWL.Ontology)) == [ONTOLOGY]
    assert ontology.value(ONTOLOGY, OWL.versionIRI) == URIRef(f"{IG}0.1.0")
    assert ontology.value(ONTOLOGY, OWL.versionInfo) == Literal("0.1.0")
    assert ontology.value(ONTOLOGY, DCTERMS.license) == URIRef(
        "https://creativecommons.org/licenses/by/4.0/"
    )
    assert ontology.value(ONTOLOGY, DCTERMS.creator) == Literal("innograph developers")
    for annotation in (DCTERMS.title, DCTERMS.description):
        value = ontology.value(ONTOLOGY, annotation)
        assert isinstance(value, Literal), f"ontology has no {annotation}"
        assert value.language == "en"
    assert ontology.value(ONTOLOGY, VANN.preferredNamespacePrefix) == Literal("ig")
    assert ontology.value(ONTOLOGY, VANN.preferredNamespaceUri) == Literal(str(IG))
    assert not list(ontology.objects(ONTOLOGY, OWL.imports)), "the ontology must import nothing"


def test_ontology_has_no_blank_nodes(ontology: Graph) -> None:
    """Blank nodes would make the canonical N-Quads of a build differ from run to run."""
    blank = [t for t in ontology if any(isinstance(node, BNode) for node in t)]
    assert not blank, f"blank nodes in the ontology: {blank[:5]}"


def test_every_term_is_documented(ontology: Graph) -> None:
    problems = []
    for term in documented_terms(ontology):
        for annotation in (RDFS.label, SKOS.definition):
            values = list(ontology.objects(term, annotation))
            if not any(isinstance(v, Literal) and v.language == "en" for v in values):
                problems.append(f"{term.n3()} has no {annotation.n3()}@en")
        if ontology.value(term, RDFS.isDefinedBy) != ONTOLOGY:
            problems.append(f"{term.n3()} is not rdfs:isDefinedBy {ONTOLOGY.n3()}")
    assert not problems, "\n".join(problems)


def test_every_property_has_one_named_domain_and_range(ontology: Graph) -> None:
    problems = []
    for prop in properties(ontology):
        for axiom in (RDFS.domain, RDFS.range):
            values = list(ontology.objects(prop, axiom))
            if len(values) != 1 or not isinstance(values[0], URIRef):
                problems.append(f"{prop.n3()} needs exactly one named {axiom.n3()}, has {values}")
    assert not problems, "\n".join(problems)


def test_object_and_datatype_properties_are_disjoint(ontology: Graph) -> None:
    both = set(ontology.subjects(RDF.type, OWL.ObjectProperty)) & set(
        ontology.subjects(RDF.type, OWL.DatatypeProperty)
    )
    assert not both


# --- b. every ig: term of the build is declared ---------------------------------------------------


def test_every_ig_term_in_the_build_is_declared(ontology: Graph, data: Graph) -> None:
    used = {node for triple in data for node in triple if is_ig(node)}
    undeclared = sorted(used - declared_terms(ontology))
    assert not undeclared, "ig: terms used but not declared: " + ", ".join(
        t.n3() for t in undeclared
    )


def test_the_build_carries_the_ontology(ontology: Graph, dataset: Dataset) -> None:
    graph = dataset.graph(URIRef(f"{Settings().base_iri}graph/ontology"))
    missing = [t for t in ontology if t not in graph]
    assert not missing, f"ontology triples missing from the build: {missing[:5]}"


# --- literal ranges -------------------------------------------------------------------------------


def literal_fits(literal: Literal, datatype: URIRef) -> bool:
    if datatype == RDF.langString:
        return literal.language is not None
    if datatype == RDF.PlainLiteral:
        return literal.datatype in (None, XSD.string)
    if datatype == XSD.string:
        return literal.language is None and literal.datatype in (None, XSD.string)
    return literal.datatype == datatype and literal.language is None


def test_literals_fit_the_declared_ranges(ontology: Graph, data: Graph) -> None:
    problems = set()
    for prop in properties(ontology):
        datatype = ontology.value(prop, RDFS.range)
        is_datatype_property = (prop, RDF.type, OWL.DatatypeProperty) in ontology
        for obj in data.objects(None, prop):
            if not is_datatype_property:
                if not isinstance(obj, URIRef):
                    problems.add(f"{prop.n3()} (object property) has the literal {obj!r}")
            elif not isinstance(obj, Literal) or not literal_fits(obj, datatype):
                problems.add(f"{prop.n3()} has {obj!r}, outside its range {datatype.n3()}")
    assert not problems, "\n".join(sorted(problems))


# --- c. concepts are in a scheme ------------------------------------------------------------------


def test_linked_concepts_are_in_a_concept_scheme(dataset: Dataset) -> None:
    """A profile's concepts are in a scheme of the vocabularies graph, stated there or, for the
    city's own wordings, in the profile's own graph (never only in another profile's graph)."""
    vocabularies = dataset.graph(URIRef(f"{Settings().base_iri}graph/vocabularies"))
    schemes = set(vocabularies.subjects(RDF.type, SKOS.ConceptScheme))
    linked = 0
    orphans = set()
    for graph in dataset.graphs():
        if (graph.identifier, RDF.type, IG.ProfileGraph) not in graph:
            continue
        for link in CONCEPT_LINKS:
            for concept in graph.objects(None, link):
                linked += 1
                in_schemes = {*vocabularies.objects(concept, SKOS.inScheme)}
                in_schemes |= {*graph.objects(concept, SKOS.inScheme)}
                if not in_schemes & schemes:
                    orphans.add(f"{concept.n3()} (via {link.n3()} in {graph.identifier.n3()})")
    assert linked, "the seed links no concepts"
    assert not orphans, "concepts in no skos:ConceptScheme: " + ", ".join(sorted(orphans))


# --- d. OWL RL consistency ------------------------------------------------------------------------


def owl_rl_problems(graph: Graph) -> list[str]:
    """Expand ``graph`` in place; owlrl records inconsistencies as err:ErrorMessage nodes."""
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    messages = [
        str(m)
        for node in graph.subjects(RDF.type, ERRNS.ErrorMessage)
        for m in graph.objects(node, ERRNS.error)
    ]
    nothing = [
        f"{s.n3()} is inferred to be owl:Nothing" for s in graph.subjects(RDF.type, OWL.Nothing)
    ]
    return sorted(messages + nothing)


def test_owl_rl_closure_is_consistent(ontology: Graph, data: Graph) -> None:
    graph = Graph()
    for triple in (*ontology, *data):
        graph.add(triple)
    assert not owl_rl_problems(graph)
    # the closure did reason: domains and subclass axioms typed the fact nodes
    profile = next(data.subjects(RDF.type, IG.Profile))
    goal = next(data.objects(profile, IG.goal))
    assert (goal, RDF.type, IG.StatedFact) in graph
    assert (profile, RDF.type, PROV.Entity) in graph


def test_owl_rl_check_detects_a_clash(ontology: Graph) -> None:
    """The consistency check can fail: a city that is also its administration is a clash."""
    graph = Graph()
    for triple in ontology:
        graph.add(triple)
    thing = URIRef("https://w3id.org/innograph/id/city/example")
    graph.add((thing, RDF.type, IG.City))
    graph.add((thing, IG.administers, thing))
    assert owl_rl_problems(graph)


# --- e. source lines ------------------------------------------------------------------------------


def test_line_numbers_are_positive_and_inside_the_source_document(
    ontology: Graph, dataset: Dataset
) -> None:
    """Each line number has the datatype the ontology declares and lies within its document."""
    problems = []
    checked = 0
    for graph in dataset.graphs():
        if (graph.identifier, RDF.type, IG.ProfileGraph) not in graph:
            continue
        document = graph.value(graph.identifier, PROV.wasDerivedFrom)
        line_count = graph.value(document, IG.lineCount)
        assert isinstance(line_count, Literal), f"{document!r} has no ig:lineCount"
        for prop in LINE_NUMBERS:
            datatype = ontology.value(prop, RDFS.range)
            assert datatype in INTEGER_TYPES, f"{prop.n3()} has the range {datatype!r}"
            for node, line in graph.subject_objects(prop):
                checked += 1
                if not isinstance(line, Literal) or line.datatype != datatype:
                    problems.append(f"{node.n3()} {prop.n3()} {line!r}: not an {datatype.n3()}")
                elif not 1 <= int(line) <= int(line_count):
                    problems.append(
                        f"{node.n3()} {prop.n3()} {int(line)} outside 1..{int(line_count)}"
                    )
        for node, end in graph.subject_objects(IG.sourceLineEnd):
            start = graph.value(node, IG.sourceLine)
            if start is None or int(end) <= int(start):
                problems.append(f"{node.n3()} ig:sourceLineEnd {end} does not follow {start}")
    assert checked, "the seed has no line numbers"
    assert not problems, "\n".join(problems)
