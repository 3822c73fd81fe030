"""The atheris harness for the profile parser: any bytes give a record or a ProfileError that
names a line, never another exception. ``tests/parsing/test_fuzz_parser.py`` runs it bounded;
by hand (libFuzzer's flags after the corpus folders)::

    .venv/bin/python tests/parsing/fuzz_parser.py CORPUS_DIR data/profiles -runs=100000
"""

from __future__ import annotations

import os
import sys

from innograph.records import ParsedProfile, SurveyOptions


def main() -> None:
    import atheris

    with atheris.instrument_imports(include=["innograph.parsing", "innograph.records"]):
        from innograph.errors import ProfileError
        from innograph.parsing import parse_bytes
    from innograph.pipeline import survey_options

    options = survey_options()
    parse = parse_bytes
    if os.environ.get("INNOGRAPH_FUZZ_PLANTED") == "1":  # the test that a finding is caught

        def parse(data: bytes, source: str, options: SurveyOptions) -> ParsedProfile:
            if b"PLANTED" in data:
                raise KeyError("a planted bug")
            return parse_bytes(data, source, options)

    def one_input(data: bytes) -> None:
        try:
            parsed = parse(data, "fuzz.txt", options)
        except ProfileError as error:
            if error.line < 1 or error.source != "fuzz.txt" or not error.expected:
                raise AssertionError(f"a ProfileError that names no line: {error!r}") from None
        else:
            if len(parsed.lines) != parsed.profile.line_count:
                raise AssertionError("the record does not account for every line")

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
