"""The namespaces innograph writes, as plain strings: the store and the query workers need them
without rdflib, which cost each query worker and its fork server 9 MB (``vocab`` wraps them in
rdflib terms)."""

from __future__ import annotations

DEF = "https://w3id.org/innograph/def/"  # the ontology's namespace (prefix ig:)
# Prefixes for the documents we write (dumps, linked-data documents).
PREFIXES = {
    "ig": DEF,
    "org": "http://www.w3.org/ns/org#",
    "qb": "http://purl.org/linked-data/cube#",
    "prov": "http://www.w3.org/ns/prov#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
}
