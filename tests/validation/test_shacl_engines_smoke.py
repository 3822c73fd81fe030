"""pySHACL and a second, independent SHACL engine (rdf-validate-shacl) agree on a Core example.

The shapes and data below are a compact stand-in for the project's own shapes, using the SHACL
Core features those rely on: class and subjects-of targets, sequence and inverse paths,
cardinality, datatypes (xsd:integer, xsd:boolean, xsd:gYear, rdf:langString), numeric ranges,
IRI patterns, sh:class, sh:in, sh:node (SKOS scheme membership), sh:languageIn, sh:uniqueLang,
sh:hasValue, Warning and Violation severities, messages and deactivated shapes. Every shape
that can be a source shape has an IRI, since blank-node shapes cannot be matched across engines.

Deliberately left out, because pySHACL 0.40 gets them wrong and the engines would disagree:
sh:minInclusive/sh:maxInclusive on xsd:gYear (pySHACL fails every value) and ill-formed
literals such as "21"^^xsd:gYear (pySHACL accepts them as the datatype).
"""

from __future__ import annotations

import pytest
from shacl_engines import run_pyshacl, run_second_engine, second_engine_available

PREFIXES = """\
@prefix sh:   <http://www.w3.org/ns/shacl#> .
@prefix rdf:  <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix xsd:  <http://www.w3.org/2001/XMLSchema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ig:   <https://w3id.org/innograph/def/> .
@prefix igv:  <https://w3id.org/innograph/vocab/> .
@prefix s:    <https://example.org/shapes#> .
@prefix ex:   <https://example.org/id/> .
"""

SHAPES = (
    PREFIXES
    + r"""
s:City a sh:NodeShape ;
    sh:targetClass ig:City ;
    sh:name "city" ;
    sh:description "A city government that answered the survey." ;
    sh:nodeKind sh:IRI ;
    sh:pattern "^https://example\\.org/id/city-[a-z]+$" ;
    sh:message "city IRIs are lower-case slugs" ;
    sh:property s:City-label , s:City-population , s:City-populationPlausible , s:City-lab ,
        s:City-year , s:City-country , s:City-status , s:City-reportsTo , s:City-profiledBy ,
        s:City-concept , s:City-legacy .

s:City-label sh:path skos:prefLabel ; sh:minCount 1 ; sh:datatype rdf:langString ;
    sh:languageIn ( "en" "fr" ) ; sh:uniqueLang true .
s:City-population sh:path ig:population ; sh:maxCount 1 ; sh:datatype xsd:integer ;
    sh:minInclusive 0 .
s:City-populationPlausible sh:path ig:population ; sh:maxInclusive 40000000 ;
    sh:severity sh:Warning ; sh:message "more than 40 million people is implausible" .
s:City-lab sh:path ig:hasInnovationLab ; sh:maxCount 1 ; sh:datatype xsd:boolean .
s:City-year sh:path ig:surveyYear ; sh:minCount 1 ; sh:maxCount 1 ; sh:datatype xsd:gYear .
s:City-country sh:path ig:country ; sh:minCount 1 ; sh:class ig:Country ; sh:nodeKind sh:IRI ;
    sh:pattern "^https://example\\.org/id/country-[A-Z]{3}$" .
s:City-status sh:path ig:status ; sh:in ( igv:draft igv:published ) ; sh:severity sh:Warning .
s:City-reportsTo sh:path ( ig:leadUnit ig:reportsTo ) ; sh:maxCount 1 ;
    sh:in ( igv:mayor igv:council ) .
s:City-profiledBy sh:path [ sh:inversePath ig:city ] ; sh:minCount 1 ; sh:class ig:Profile .
s:City-concept sh:path ig:concept ; sh:node [
        sh:property [ sh:path skos:inScheme ; sh:hasValue igv:capacity ] ] .
s:City-legacy sh:path ig:legacyCode ; sh:maxCount 0 ; sh:deactivated true .

s:Profile a sh:NodeShape ;
    sh:targetClass ig:Profile ;
    sh:property s:Profile-source .
s:Profile-source sh:path ig:source ; sh:hasValue ex:survey-2021 ;
    sh:message "profiles cite the 2021 survey" .

s:LeadUnitHolder a sh:NodeShape ;
    sh:targetSubjectsOf ig:leadUnit ;
    sh:class ig:City ;
    sh:severity sh:Warning .

s:Off a sh:NodeShape ;
    sh:targetClass ig:City ;
    sh:deactivated true ;
    sh:property s:Off-name .
s:Off-name sh:path ig:neverThere ; sh:minCount 1 .
"""
)

VALID = (
    PREFIXES
    + r"""
igv:capacity a skos:ConceptScheme .
igv:capacity\/lab a skos:Concept ; skos:inScheme igv:capacity .
ex:country-GBR a ig:Country .
ex:unit-1 ig:reportsTo igv:mayor .

ex:city-liverpool a ig:City ;
    skos:prefLabel "Liverpool City Region"@en , "Région de Liverpool"@fr ;
    ig:population 1600000 ;
    ig:hasInnovationLab true ;
    ig:surveyYear "2021"^^xsd:gYear ;
    ig:country ex:country-GBR ;
    ig:status igv:published ;
    ig:leadUnit ex:unit-1 ;
    ig:concept igv:capacity\/lab ;
    ig:legacyCode "LCR" .
ex:profile-liverpool a ig:Profile ; ig:source ex:survey-2021 ; ig:city ex:city-liverpool .
"""
)

INVALID = (
    VALID
    + r"""
igv:other a skos:ConceptScheme .
igv:other\/stray a skos:Concept ; skos:inScheme igv:other .
ex:unit-2 ig:reportsTo ig:parliament .

ex:city-lyon a ig:City ;
    skos:prefLabel "Lyon"@fr , "Lyon Métropole"@fr , "Lione"@it ;
    ig:population "about 1.4 million" ;
    ig:hasInnovationLab "yes" ;
    ig:surveyYear "2021-05-01"^^xsd:date ;
    ig:country ex:country-FRA ;
    ig:status igv:archived ;
    ig:leadUnit ex:unit-2 ;
    ig:concept igv:other\/stray .
ex:profile-lyon a ig:Profile ; ig:source ex:survey-2019 ; ig:city ex:city-lyon .

ex:city-Big_Town a ig:City ;
    skos:prefLabel "Big Town"@en ;
    ig:population 50000000 , -3 ;
    ig:surveyYear "2021"^^xsd:gYear ;
    ig:country ex:country-GBR .

ex:department-x ig:leadUnit ex:unit-1 .
"""
)

SHAPE = "https://example.org/shapes#"
ID = "https://example.org/id/"
VIOLATION = "http://www.w3.org/ns/shacl#Violation"
WARNING = "http://www.w3.org/ns/shacl#Warning"

# What SHACL Core says INVALID breaks, reduced to (focus node, source shape, severity).
EXPECTED = {
    (f"{ID}city-lyon", f"{SHAPE}City-label", VIOLATION),  # uniqueLang fr, languageIn it
    (f"{ID}city-lyon", f"{SHAPE}City-population", VIOLATION),  # not an xsd:integer
    (f"{ID}city-lyon", f"{SHAPE}City-populationPlausible", WARNING),  # a string is not <= 40M
    (f"{ID}city-lyon", f"{SHAPE}City-lab", VIOLATION),  # "yes" is no xsd:boolean
    (f"{ID}city-lyon", f"{SHAPE}City-year", VIOLATION),  # xsd:date, not xsd:gYear
    (f"{ID}city-lyon", f"{SHAPE}City-country", VIOLATION),  # not an ig:Country
    (f"{ID}city-lyon", f"{SHAPE}City-status", WARNING),  # sh:in
    (f"{ID}city-lyon", f"{SHAPE}City-reportsTo", VIOLATION),  # sequence path, sh:in
    (f"{ID}city-lyon", f"{SHAPE}City-concept", VIOLATION),  # concept from the wrong scheme
    (f"{ID}profile-lyon", f"{SHAPE}Profile-source", VIOLATION),  # sh:hasValue
    (f"{ID}city-Big_Town", f"{SHAPE}City", VIOLATION),  # IRI pattern of the focus node
    (f"{ID}city-Big_Town", f"{SHAPE}City-population", VIOLATION),  # maxCount, minInclusive
    (f"{ID}city-Big_Town", f"{SHAPE}City-populationPlausible", WARNING),  # 50 million
    (f"{ID}city-Big_Town", f"{SHAPE}City-profiledBy", VIOLATION),  # inverse path, minCount
    (f"{ID}department-x", f"{SHAPE}LeadUnitHolder", WARNING),  # targetSubjectsOf, sh:class
}


@pytest.fixture(scope="module")
def second_engine() -> None:
    if not second_engine_available():
        pytest.skip(
            "second SHACL engine not installed (needs Node: `apt-get install nodejs npm`, then `npm ci --prefix tests/shacl-js`)"
        )


def test_pyshacl_reports_what_shacl_core_says() -> None:
    assert run_pyshacl(INVALID, SHAPES) == EXPECTED
    assert run_pyshacl(VALID, SHAPES) == set()


@pytest.mark.usefixtures("second_engine")
def test_second_engine_reports_the_violations() -> None:
    results = run_second_engine(INVALID, SHAPES)
    assert results == EXPECTED
    assert {severity for _, _, severity in results} == {VIOLATION, WARNING}
    assert (f"{ID}city-lyon", f"{SHAPE}City-concept", VIOLATION) in results
    assert not any(shape.startswith(f"{SHAPE}Off") for _, shape, _ in results)


@pytest.mark.usefixtures("second_engine")
@pytest.mark.parametrize("data", [INVALID, VALID], ids=["invalid", "valid"])
def test_engines_agree(data: str) -> None:
    assert run_second_engine(data, SHAPES) == run_pyshacl(data, SHAPES)
