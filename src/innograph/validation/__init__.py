"""Validation: the shapes, the compiled gate that guards every build (pyoxigraph, whole store),
pySHACL as the reference engine for ``innograph validate``, and reports for people and CI."""
