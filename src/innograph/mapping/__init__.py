"""Records to quads: pure, deterministic, one named graph per profile, no blank nodes.

Every fact the page states is a node that carries ``ig:sourceLine`` (and ``ig:sourceLineEnd``
when it spans several lines), typed xsd:integer because Oxigraph stores derived integer types
as xsd:integer and a narrower type would not survive the round trip. The few plain attributes
of a profile (display name, country, website link line) are reified as ``rdf:Statement``
nodes with the same line properties.
The IRI patterns are documented in the README ("IRIs").
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePath

import pyoxigraph as ox
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, RDFS, SKOS, XSD, Namespace

from ..records import Choice, Person, Profile, Span, Statement
from ..vocab import IG, concept_iri, scheme_iri, slug
from .entities import RULES, Entity, find_in_narratives

Quad = tuple[URIRef, URIRef, URIRef | Literal, URIRef]  # subject, predicate, object, graph
ORG = Namespace("http://www.w3.org/ns/org#")
QB = Namespace("http://purl.org/linked-data/cube#")
NTRIPLES = ox.RdfFormat.N_TRIPLES


SHARE_MEASURES = {
    "strategy": (
        "explicit-strategy",
        "share of cities that {value} an explicit innovation strategy",
    ),
    "approach": ("approach", "share of cities whose approach to innovation capacity is {value}"),
    "funding": ("dedicated-funding", "share of cities that {value} dedicated funding"),
}


@dataclass(frozen=True)
class SourceDocument:
    """The file a profile was read from: its name and the sha256 of its bytes."""

    name: str
    sha256: str

    @classmethod
    def of(cls, name: str, data: bytes) -> SourceDocument:
        return cls(PurePath(name).name, hashlib.sha256(data).hexdigest())


def city_key(profile: Profile) -> str:
    """The city's slug: the site's own slug from the "# source:" URL, else the file stem
    without a variant suffix ("denver-us--2018-version.txt" gives "denver-us")."""
    if profile.source_url is not None:
        match = re.search(r"/cities/([^/]+)/?$", profile.source_url.value)
        if match:
            return slug(match.group(1))
    return slug(PurePath(profile.source).stem.split("--")[0])


def city_label_property(profile: Profile) -> URIRef | None:
    """``skos:prefLabel`` for the city's name printed by a page of the updated profile site,
    which shows each city's newest profile (2020 answers, or the 2018 ones for a city not
    surveyed again); None otherwise: that name stays the city's ``rdfs:label`` (and the
    profile's ``ig:displayName``).

    The rule needs no other profile, so each graph decides alone and a city has one
    ``skos:prefLabel`` however many of its pages are built. Other pages' names are not made
    ``skos:altLabel``: a page cannot see that another page prints the same name as preferred,
    and SKOS keeps a concept's preferred and alternative labels apart.

    >>> from innograph.records import SurveyContext
    >>> page = Profile("x.txt", 1, "headed", survey=SurveyContext("original", wave=2018))
    >>> city_label_property(page) is None
    True
    """
    return SKOS.prefLabel if profile.survey.site_version == "updated" else None


RULE_INDIVIDUALS = {
    "naming-frame": "namingFrameRule",
    "head-word": "headWordRule",
    "definite-phrase": "definitePhraseRule",
    "acronym": "acronymRule",
    "abbreviation": "abbreviationRule",
}
"""The ontology's ig:EntityRule individual of each rule of ``innograph.mapping.entities``."""
assert set(RULE_INDIVIDUALS) == {*RULES, "abbreviation"}


def own_names(profile: Profile) -> tuple[str, ...]:
    """The names a page calls its own city by: the printed name, without a trailing ", CO",
    and the city key's words without a country code ("cape-town-zaf": "cape town").

    >>> own_names(Profile("cape-town-zaf.txt", 1, "headed"))
    ('cape town',)
    """
    names = []
    if (printed := profile.header.display_name) is not None:
        names += [printed.value, printed.value.split(",")[0].strip()]
    words = city_key(profile).split("-")
    if len(words) > 1 and len(words[-1]) in {2, 3}:
        words = words[:-1]
    names.append(" ".join(words))
    return tuple(dict.fromkeys(name for name in names if name))


def document_key(source: str) -> str:
    return slug(PurePath(source).stem)


class Mapper:
    """Collects the quads of one profile graph; ``quads()`` returns them sorted."""

    def __init__(self, profile: Profile, source: SourceDocument, base: str, parser_version: str):
        self.profile = profile
        self.base = base
        self.city_slug = city_key(profile)
        wave = profile.survey.wave
        self.city = URIRef(f"{base}id/city/{self.city_slug}")
        self.administration = URIRef(f"{self.city}/administration")
        self.iri = URIRef(f"{base}id/profile/{self.city_slug}/{wave or 'undated'}")
        self.document = URIRef(f"{base}id/source/{document_key(source.name)}")
        self.graph = URIRef(f"{base}graph/{document_key(source.name)}")
        self.source = source
        self.parser_version = parser_version
        self._quads: set[Quad] = set()
        self._entities: dict[str, tuple[Entity, ...]] | None = None

    # --- primitives -------------------------------------------------------------------------

    def add(self, subject: URIRef, predicate: URIRef, obj: URIRef | Literal) -> None:
        self._quads.add((subject, predicate, obj, self.graph))

    def lines(self, node: URIRef, span: Span) -> None:
        self.add(node, IG.sourceLine, Literal(span.first, datatype=XSD.integer))
        if span.last != span.first:
            self.add(node, IG.sourceLineEnd, Literal(span.last, datatype=XSD.integer))

    def node(self, path: str, rdf_type: URIRef, span: Span | None = None) -> URIRef:
        iri = URIRef(f"{self.iri}/{path}")
        self.add(iri, RDF.type, rdf_type)
        if span is not None:
            self.lines(iri, span)
        return iri

    def statement(
        self, name: str, subject: URIRef, predicate: URIRef, obj: Literal, span: Span
    ) -> None:
        """A plain attribute, asserted and reified so that its line is queryable."""
        self.add(subject, predicate, obj)
        node = self.node(f"statement/{name}", RDF.Statement, span)
        self.add(node, RDF.subject, subject)
        self.add(node, RDF.predicate, predicate)
        self.add(node, RDF.object, obj)

    def concept(self, scheme: str, choice: Choice) -> URIRef:
        """The survey option's concept, or a concept of the city's own wording, in the scheme."""
        if choice.option is not None:
            return URIRef(concept_iri(scheme, choice.option))
        iri = URIRef(concept_iri(scheme, f"own/{slug(choice.wording)}"))
        self.add(iri, RDF.type, SKOS.Concept)
        self.add(iri, SKOS.inScheme, URIRef(scheme_iri(scheme)))
        self.add(iri, SKOS.prefLabel, Literal(choice.wording, lang="en"))
        self.add(iri, IG.surveyOption, Literal(False))
        self.add(iri, DCTERMS.source, self.document)
        return iri

    def choices(
        self,
        choices: Iterable[Choice],
        scheme: str,
        path: str,
        rdf_type: URIRef,
        link: URIRef,
        ranked: bool = False,
    ) -> list[URIRef]:
        nodes = []
        for position, choice in enumerate(choices, start=1):
            node = self.node(f"{path}/{position}", rdf_type, choice.span)
            self.add(self.iri, link, node)
            self.add(node, IG.concept, self.concept(scheme, choice))
            self.add(node, IG.wording, Literal(choice.wording, lang="en"))
            if ranked:
                self.add(node, IG.rank, Literal(position, datatype=XSD.integer))
            nodes.append(node)
        return nodes

    def share(self, kind: str, statement: Statement) -> URIRef:
        """The survey-wide share a sentence quotes, as a Data Cube observation per site version."""
        measure, label = SHARE_MEASURES[kind]
        version = self.profile.survey.site_version
        path = f"{version}/{measure}/{statement.value}"
        if version is None:  # the share alone then tells the observations apart
            path = f"unknown-site-version/{measure}/{statement.value}/{slug(statement.share)}"
        iri = URIRef(f"{self.base}id/observation/{path}")
        dataset = URIRef(f"{self.base}id/dataset/survey-wide-shares")
        graph_add = self.add
        graph_add(dataset, RDF.type, QB.DataSet)
        graph_add(dataset, QB.structure, IG.surveyWideSharesStructure)
        graph_add(iri, RDF.type, QB.Observation)
        graph_add(iri, QB.dataSet, dataset)
        graph_add(iri, IG.measure, Literal(measure))
        graph_add(iri, IG.answer, Literal(statement.value))
        graph_add(iri, IG.shareText, Literal(statement.share, lang="en"))
        graph_add(
            iri,
            RDFS.label,
            Literal(label.format(value=statement.value.replace("-", " ")), lang="en"),
        )
        if statement.share_percent is not None:
            graph_add(iri, IG.sharePercent, Literal(Decimal(statement.share_percent)))
        if version is not None:
            graph_add(iri, IG.siteVersion, URIRef(concept_iri("site-versions", version)))
        return iri

    def narrative_texts(self) -> list[str]:
        """The page's free texts in page order: spotlight items, vision notes, policy narratives."""
        profile = self.profile
        texts = [item.value for block in profile.spotlight for item in block.items]
        texts += [note.value for note in profile.vision_notes]
        return texts + [narrative.text for narrative in profile.policy_focus.narratives]

    def entities(self, text: str) -> tuple[Entity, ...]:
        if self._entities is None:
            texts = self.narrative_texts()
            found = find_in_narratives(texts, own_names(self.profile))
            self._entities = dict(zip(texts, found, strict=True))
        return self._entities[text]

    def mentions(self, narrative: URIRef, text: str, span: Span) -> None:
        """Organisations and initiatives named in a narrative, each with its sentence and the
        rule that found it (``ig:foundBy``, an ``ig:EntityRule``, a ``prov:Plan``).

        Both belong to the city whose page names them (``…/organisation/<city>/<slug>``,
        ``…/initiative/<city>/<slug>``): "Innovation Office" named by two cities is two
        organisations, and no identity across cities is asserted. An abbreviation the page
        spells out is the long name's ``skos:altLabel`` and its mentions name the long name.
        The rule is explained in ``innograph.mapping.entities``."""
        for position, entity in enumerate(self.entities(text), start=1):
            name = entity.full_name
            if entity.kind == "organisation":
                iri = URIRef(f"{self.base}id/organisation/{self.city_slug}/{slug(name)}")
                self.add(iri, RDF.type, FOAF.Organization)
            else:
                iri = URIRef(f"{self.base}id/initiative/{self.city_slug}/{slug(name)}")
                self.add(iri, RDF.type, IG.Initiative)
            self.add(iri, RDFS.label, Literal(name))
            for short in (entity.abbreviation, entity.stands_for and entity.name):
                if short:
                    self.add(iri, SKOS.altLabel, Literal(short))
            mention = URIRef(f"{narrative}/mention/{position}")
            self.add(mention, RDF.type, IG.EntityMention)
            self.lines(mention, span)
            self.add(narrative, IG.mention, mention)
            self.add(mention, IG.mentions, iri)
            self.add(mention, IG.sentence, Literal(entity.sentence, lang="en"))
            self.add(mention, IG.foundBy, IG[RULE_INDIVIDUALS[entity.rule]])

    def person(self, name: str) -> URIRef:
        iri = URIRef(f"{self.base}id/person/{self.city_slug}/{slug(name)}")
        self.add(iri, RDF.type, FOAF.Person)
        self.add(iri, FOAF.name, Literal(name))
        return iri

    # --- sections ---------------------------------------------------------------------------

    def map(self) -> list[Quad]:
        self.provenance()
        self.header()
        self.answers()
        self.vision_and_policy()
        self.organisation()
        self.funding_and_partnerships()
        self.data_availability()
        return sorted(self._quads, key=_sort_key)

    def provenance(self) -> None:
        p, profile = self.iri, self.profile
        self.add(self.graph, RDF.type, IG.ProfileGraph)
        self.add(self.graph, PROV.wasDerivedFrom, self.document)
        self.add(self.graph, IG.parserVersion, Literal(self.parser_version))
        self.add(self.graph, DCTERMS.subject, p)
        self.add(self.document, RDF.type, IG.SourceDocument)
        self.add(self.document, DCTERMS.identifier, Literal(self.source.name))
        self.add(self.document, IG.sha256, Literal(self.source.sha256))
        self.add(self.document, IG.lineCount, Literal(profile.line_count, datatype=XSD.integer))
        if profile.source_url is not None:
            self.add(self.document, DCTERMS.source, URIRef(profile.source_url.value))
        if profile.synthetic is not None:  # generated for scale tests: never a real city's answer
            self.add(self.document, IG.synthetic, Literal(True))
            self.add(p, IG.synthetic, Literal(True))
            self.add(self.document, RDFS.comment, Literal(profile.synthetic.value, lang="en"))
        self.add(p, RDF.type, IG.Profile)
        self.add(p, IG.city, self.city)
        self.add(p, PROV.wasDerivedFrom, self.document)
        self.add(p, IG.rendering, Literal(profile.rendering))
        if profile.truncated_at is not None:
            self.add(p, IG.truncatedAtLine, Literal(profile.truncated_at, datatype=XSD.integer))
        if (cut := profile.cut_item) is not None:  # text only: never a concept
            text = Literal(cut.text, lang="en")
            self.statement("truncated-item", p, IG.truncatedItem, text, cut.span)
        survey = profile.survey
        if survey.wave is not None:
            self.add(p, IG.surveyWave, URIRef(concept_iri("survey-waves", str(survey.wave))))
        if survey.site_version is not None:
            self.add(p, IG.siteVersion, URIRef(concept_iri("site-versions", survey.site_version)))
        self.add(p, IG.waveEvidence, Literal(survey.evidence, lang="en"))
        if survey.snapshot_note_year is not None:
            note = self.node("snapshot-note", IG.SnapshotNote, survey.snapshot_note_year.span)
            self.add(p, IG.snapshotNote, note)
            self.add(
                note,
                IG.producedIn,
                Literal(str(survey.snapshot_note_year.value), datatype=XSD.gYear),
            )
        self.add(self.city, RDF.type, IG.City)
        self.add(self.administration, RDF.type, IG.CityAdministration)
        self.add(self.administration, IG.administers, self.city)

    def header(self) -> None:
        header, p = self.profile.header, self.iri
        if header.display_name is not None:
            name = Literal(header.display_name.value)
            self.statement("display-name", p, IG.displayName, name, header.display_name.span)
            self.add(self.city, RDFS.label, name)
            if (preferred := city_label_property(self.profile)) is not None:
                self.add(self.city, preferred, name)
        if header.country is not None:
            self.statement(
                "country", p, IG.countryName, Literal(header.country.value), header.country.span
            )
        if header.website_link is not None:
            self.statement("website-link", p, IG.hasWebsiteLink, Literal(True), header.website_link)
        if header.population is not None:
            figure = self.node("population", IG.PopulationFigure, header.population.span)
            self.add(p, IG.populationFigure, figure)
            self.add(figure, IG.population, Literal(header.population.value, datatype=XSD.integer))
            if header.population_year is not None:
                year = Literal(str(header.population_year.value), datatype=XSD.gYear)
                self.add(figure, IG.referenceYear, year)
        if header.mayor is not None:
            self.post("mayor", IG.mayorRole, IG.mayor, [header.mayor])
        if header.lead_officers:
            self.post(
                "lead-innovation-officer",
                IG.leadInnovationOfficerRole,
                IG.leadInnovationOfficer,
                list(header.lead_officers),
            )

    def post(self, name: str, role: URIRef, link: URIRef, people: list[Person]) -> None:
        post = URIRef(f"{self.city}/post/{name}")
        self.add(post, RDF.type, ORG.Post)
        self.add(post, ORG.postIn, self.administration)
        self.add(post, ORG.role, role)
        for position, person in enumerate(people, start=1):
            holder = self.person(person.name)
            self.add(post, ORG.heldBy, holder)
            membership = self.node(f"{name}/{position}", ORG.Membership, person.span)
            self.add(self.iri, link, membership)
            self.add(membership, ORG.member, holder)
            self.add(membership, ORG.organization, self.administration)
            self.add(membership, ORG.role, role)
            if person.note:
                self.add(membership, IG.note, Literal(person.note, lang="en"))
            if self.profile.survey.wave is not None:  # who held the post when, in the merged graph
                wave = URIRef(concept_iri("survey-waves", str(self.profile.survey.wave)))
                self.add(membership, IG.statedInWave, wave)

    def answers(self) -> None:
        profile = self.profile
        self.choices(profile.goals, "goals", "goal", IG.GoalSelection, IG.goal, ranked=True)
        self.choices(
            profile.success_factors,
            "success-factors",
            "success-factor",
            IG.SuccessFactorSelection,
            IG.successFactor,
            ranked=True,
        )
        self.choices(profile.terms, "terms", "term", IG.TermSelection, IG["term"])
        self.choices(
            profile.activities.selected, "activities", "activity", IG.ActivitySelection, IG.activity
        )
        if profile.activities.also_include is not None:
            nodes = self.choices(
                profile.activities.also_include_items,
                "activities",
                "also-include",
                IG.ActivitySelection,
                IG.activity,
            )
            for node in nodes:
                self.add(
                    node,
                    IG.statedInSentence,
                    Literal(profile.activities.also_include.value, lang="en"),
                )
        for index, block in enumerate(profile.spotlight, start=1):
            for position, item in enumerate(block.items, start=1):
                node = self.node(f"spotlight/{index}/{position}", IG.SpotlightItem, item.span)
                self.add(self.iri, IG.spotlight, node)
                self.add(node, IG.blockKind, Literal(block.kind))
                self.add(node, IG.text, Literal(item.value, lang="en"))
                self.mentions(node, item.value, item.span)

    def vision_and_policy(self) -> None:
        profile, p = self.profile, self.iri
        if profile.strategy is not None:
            node = self.node("strategy", IG.StrategyStatement, profile.strategy.span)
            self.add(p, IG.strategy, node)
            self.add(node, IG.hasExplicitStrategy, Literal(profile.strategy.value == "has"))
            self.add(node, IG.surveyShare, self.share("strategy", profile.strategy))
        if profile.approach is not None:
            node = self.node("approach", IG.ApproachStatement, profile.approach.span)
            self.add(p, IG.approach, node)
            self.add(node, IG.concept, URIRef(concept_iri("approaches", profile.approach.value)))
            self.add(node, IG.surveyShare, self.share("approach", profile.approach))
        for position, note in enumerate(profile.vision_notes, start=1):
            node = self.node(f"vision-note/{position}", IG.VisionNote, note.span)
            self.add(p, IG.visionNote, node)
            self.add(node, IG.text, Literal(note.value, lang="en"))
            self.mentions(node, note.value, note.span)
        focus = profile.policy_focus
        if focus.prioritises is not None:
            node = self.node("policy-priority", IG.PolicyPriorityStatement, focus.prioritises.span)
            self.add(p, IG.policyPriority, node)
            self.add(node, IG.prioritisesPolicyAreas, Literal(focus.prioritises.value))
        areas = self.choices(
            focus.areas, "policy-areas", "policy-area", IG.PolicyFocusArea, IG.policyFocus
        )
        by_wording = {
            choice.wording: node for choice, node in zip(focus.areas, areas, strict=False)
        }
        for position, narrative in enumerate(focus.narratives, start=1):
            node = self.node(f"policy-narrative/{position}", IG.PolicyNarrative, narrative.span)
            self.add(p, IG.policyNarrative, node)
            self.add(node, IG.text, Literal(narrative.text, lang="en"))
            self.mentions(node, narrative.text, narrative.span)
            if narrative.label is not None:
                self.add(node, IG.label, Literal(narrative.label, lang="en"))
            if narrative.area is not None and narrative.area in by_wording:
                self.add(node, IG.narrativeOf, by_wording[narrative.area])

    def organisation(self) -> None:
        profile, p = self.profile, self.iri
        roles = profile.roles
        if roles.stated_count is not None:
            node = self.node("role-count", IG.RoleCountStatement, roles.stated_count.span)
            self.add(p, IG.roleCount, node)
            self.add(node, IG.statedCount, Literal(roles.stated_count.value, datatype=XSD.integer))
        self.choices(roles.roles, "roles", "role", IG.RoleSelection, IG.role)
        placement = profile.placement
        if placement is None:
            return
        node = self.node("placement", IG.Placement, placement.text.span)
        self.add(p, IG.placement, node)
        self.add(node, IG.text, Literal(placement.text.value, lang="en"))
        if placement.kind is not None:
            self.add(node, IG.placementKind, URIRef(concept_iri("placement-kinds", placement.kind)))
        for unit in placement.units:
            self.add(node, IG.unit, self.unit(unit.value))
        for position, team in enumerate(placement.teams, start=1):
            team_node = self.node(f"placement/team/{position}", IG.UnitTeam, team.span)
            self.add(node, IG.unitTeam, team_node)
            self.add(team_node, IG.teamOf, self.unit(team.unit))
            self.add(team_node, IG.staffCount, Literal(team.staff, datatype=XSD.integer))
        if placement.accountable_to is not None:
            self.add(node, IG.accountableTo, Literal(placement.accountable_to.value, lang="en"))
        if placement.team_size is not None:
            self.add(node, IG.teamSize, Literal(placement.team_size.value, datatype=XSD.integer))
        if placement.dedicated_team is not None:
            self.add(node, IG.hasDedicatedTeam, Literal(placement.dedicated_team.value))

    def unit(self, name: str) -> URIRef:
        """A unit of the city administration, by its name."""
        iri = URIRef(f"{self.administration}/unit/{slug(name)}")
        self.add(iri, RDF.type, ORG.OrganizationalUnit)
        self.add(iri, ORG.unitOf, self.administration)
        self.add(iri, RDFS.label, Literal(name, lang="en"))
        return iri

    def funding_and_partnerships(self) -> None:
        profile, p = self.profile, self.iri
        funding = profile.funding
        if funding.dedicated is not None:
            node = self.node("dedicated-funding", IG.FundingStatement, funding.dedicated.span)
            self.add(p, IG.dedicatedFunding, node)
            self.add(node, IG.hasDedicatedFunding, Literal(funding.dedicated.value == "has"))
            self.add(node, IG.surveyShare, self.share("funding", funding.dedicated))
        self.choices(
            funding.invests_in,
            "funded-activities",
            "investment",
            IG.FundedActivitySelection,
            IG.investsIn,
        )
        sources = self.choices(
            [s.choice for s in funding.sources],
            "funding-sources",
            "funding-source",
            IG.FundingSourceSelection,
            IG.fundingSource,
            ranked=True,
        )
        for source, node in zip(funding.sources, sources, strict=False):
            if source.definition is not None:
                self.add(
                    node,
                    IG.definitionLine,
                    Literal(source.definition.span.first, datatype=XSD.integer),
                )
        self.choices(
            funding.funded_activities,
            "funded-activities",
            "funded-activity",
            IG.FundedActivitySelection,
            IG.fundedActivity,
        )
        for position, residue in enumerate(funding.chart_residue, start=1):
            node = self.node(f"chart-residue/{position}", IG.ChartResidue, residue.span)
            self.add(p, IG.chartResidue, node)
            self.add(node, IG.text, Literal(residue.value, lang="en"))
            self.add(node, IG.position, Literal(position, datatype=XSD.integer))
        partnerships = profile.partnerships
        if partnerships.sentence is not None:
            node = self.node("partnerships", IG.PartnershipStatement, partnerships.sentence.span)
            self.add(p, IG.partnershipStatement, node)
            self.add(node, IG.text, Literal(partnerships.sentence.value, lang="en"))
            if partnerships.internal_only is not None:
                self.add(
                    node, IG.internalToAdministration, Literal(partnerships.internal_only.value)
                )
        if partnerships.data_sentence is not None:
            node = self.node(
                "data-partnerships", IG.DataPartnershipStatement, partnerships.data_sentence.span
            )
            self.add(p, IG.dataPartnershipStatement, node)
            self.add(node, IG.text, Literal(partnerships.data_sentence.value, lang="en"))
        self.choices(
            partnerships.partner_types,
            "partner-types",
            "partner-type",
            IG.PartnerTypeSelection,
            IG.partnerType,
        )
        self.choices(
            partnerships.data_partner_types,
            "data-partner-types",
            "data-partner-type",
            IG.DataPartnerTypeSelection,
            IG.dataPartnerType,
        )

    def data_availability(self) -> None:
        data, p = self.profile.data_availability, self.iri
        for position, count in enumerate(data.stated_counts, start=1):
            node = self.node(f"data-availability-count/{position}", IG.StatedCount, count.span)
            self.add(p, IG.dataAvailabilityCount, node)
            self.add(node, IG.statedCount, Literal(count.value, datatype=XSD.integer))
            self.add(node, IG.position, Literal(position, datatype=XSD.integer))
        for sufficient, choices in ((True, data.sufficient), (False, data.insufficient)):
            path = "data-sufficient" if sufficient else "data-insufficient"
            for node in self.choices(
                choices, "policy-areas", path, IG.DataAvailability, IG.dataAvailability
            ):
                self.add(node, IG.sufficientData, Literal(sufficient))


def _sort_key(quad: Quad) -> tuple[str, str, str, str]:
    return (str(quad[3]), str(quad[0]), str(quad[1]), quad[2].n3())


def map_profile(
    profile: Profile, source: SourceDocument, base: str, parser_version: str
) -> list[Quad]:
    """The profile's quads in its own named graph, sorted."""
    return Mapper(profile, source, base, parser_version).map()


def _iri(value: URIRef | Literal) -> ox.NamedNode:
    """A subject or predicate of the mapping: always an IRI (it has no blank nodes)."""
    assert isinstance(value, URIRef), value
    return ox.NamedNode(str(value))


def _term(value: URIRef | Literal) -> ox.NamedNode | ox.Literal:
    """An rdflib term as a pyoxigraph one."""
    if isinstance(value, Literal):
        if value.language:
            return ox.Literal(str(value), language=value.language)
        if value.datatype is not None and str(value.datatype) != str(XSD.string):
            return ox.Literal(str(value), datatype=ox.NamedNode(str(value.datatype)))
        return ox.Literal(str(value))
    return ox.NamedNode(str(value))


def ntriples(quads: Iterable[Quad]) -> bytes:
    """The quads' triples as N-Triples, in the order given, written by pyoxigraph."""
    data = ox.serialize(
        (ox.Triple(_iri(s), _iri(p), _term(o)) for s, p, o, _ in quads), format=NTRIPLES
    )
    assert data is not None, "serialised to memory, not to a file"
    return data
