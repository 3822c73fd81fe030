"""One message per cause: two renderings of one page are one duplicate each, told once from the
file to leave out, with the findings that follow from it counted, not listed."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import SEED, fragment_files
from innograph.pipeline import build
from innograph.settings import Settings


def test_each_page_built_twice_is_one_message_naming_both_files(tmp_path: Path) -> None:
    headed, flat = fragment_files(flattened=False), fragment_files(flattened=True)
    report = build([*headed, *flat], tmp_path / "store", Settings())
    assert report.exit_code == 1
    assert report.version is None
    rejected = sorted(Path(f).name for f in report.rejected_files)
    assert rejected, report.rejects
    assert set(rejected) <= {p.name for p in flat}
    assert len(report.rejects) == len(rejected)  # one message per page built twice
    for line in report.rejects:
        told = re.match(
            r"(\S+--flat\.txt): Violation: \S+: this city and wave are also described by"
            r" (\S+\.txt), which says more \((\d+) statements against (\d+)\):"
            r" keep one profile per city per wave \((\d+) findings that follow from this are not"
            r" listed\)$",
            line,
        )
        assert told is not None, line
        left_out, kept, more, fewer, knocked = told.groups()
        assert kept == left_out.replace("--flat", "")
        assert int(more) > int(fewer)
        assert int(knocked) > 0
    assert report.files_in == report.graphs_out + len(report.rejected_files)


def test_a_file_with_its_own_fault_is_still_told_apart(tmp_path: Path) -> None:
    """A knock-on is a finding on the duplicated profile; another file's fault stays listed."""
    headed, flat = fragment_files(flattened=False), fragment_files(flattened=True)
    twin = next(p for p in flat if p.name.startswith("akron"))
    wrong = tmp_path / SEED.name  # a population of 0
    wrong.write_text(
        SEED.read_text(encoding="utf-8").replace("\n1,530,000 (2018)\n", "\n0 (2018)\n"),
        encoding="utf-8",
    )
    report = build([*headed, twin, wrong], tmp_path / "store", Settings())
    assert report.exit_code == 1
    assert sorted(Path(f).name for f in report.rejected_files) == [twin.name, SEED.name]
    assert sum(line.startswith(f"{twin.name}: Violation: ") for line in report.rejects) == 1
    assert [line for line in report.rejects if line.startswith(SEED.name)] == [
        f"{SEED.name}:11: Violation: https://w3id.org/innograph/id/profile/liverpool-city-region"
        "/2020/population: The population must be one integer above 0."
    ]


def test_a_share_misquoted_by_one_page_is_blamed_on_that_page(tmp_path: Path) -> None:
    """A survey-wide share is one node that many pages quote: the page that quotes the wrong
    value is the one named, not the first file by name that quotes the share at all."""
    wrong = tmp_path / SEED.name
    wrong.write_text(
        SEED.read_text(encoding="utf-8").replace("Along with 50%", "Along with 150%"),
        encoding="utf-8",
    )
    report = build([*fragment_files(flattened=False), wrong], tmp_path / "store", Settings())
    assert report.exit_code == 1
    quoting_150 = [line for line in report.rejects if "from 0 to 100" in line]
    assert any(line.startswith(f"{SEED.name}:") for line in quoting_150), report.rejects


def test_a_fault_of_the_kept_file_is_told_beside_the_duplicate(tmp_path: Path) -> None:
    """The file the message says to keep has a population of 0: that is a fault of its own,
    found in its graph alone, so it is listed, never counted among the duplicate's knock-ons."""
    headed, flat = fragment_files(flattened=False), fragment_files(flattened=True)
    source = next(p for p in headed if p.name == "akron-us.txt")
    broken = tmp_path / source.name
    text = source.read_text(encoding="utf-8")
    population = re.search(r"^\d[\d,]* \((\d{4})\)$", text, re.M)
    assert population is not None
    broken.write_text(text.replace(population.group(), f"0 ({population.group(1)})"), "utf-8")
    twin = next(p for p in flat if p.name == "akron-us--flat.txt")
    report = build([broken, twin], tmp_path / "store", Settings())
    assert report.exit_code == 1
    assert any(
        line.startswith("akron-us.txt:") and "population must be one integer above 0" in line
        for line in report.rejects
    ), report.rejects
    assert sorted(Path(f).name for f in report.rejected_files) == [twin.name, source.name]
