"""Names are labels: ``path_component`` turns any name into one safe path component.

The class of defect: a name used as a path chooses where files go (``../../x``, ``/tmp/x``).
Whatever the name, ``results / path_component(name)`` must stay a direct child of ``results``.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from negotiation_sim.config.names import MAX_COMPONENT_CHARS, path_component

HOSTILE = ["../../x", "/tmp/x", "..", ".", "", "a/../../b", "C:\\Windows\\x", "\\\\server\\share",
           "~", "~/x", "CON", "nul.txt", "a\x00b", "\x1b[31mred\x1b[0m", "-rf", ".hidden",
           "x" * 1000, "a\nb", "[red]x[/red]", "$x$", "é/../ü", "\u202eevil", " ", "...."]


def _stays_inside(component: str) -> None:
    assert component and component not in (".", "..")
    assert not component.startswith((".", "-", "~"))
    assert "/" not in component and "\\" not in component and ":" not in component
    assert all(ch.isprintable() and not ch.isspace() for ch in component)
    assert len(component) <= MAX_COMPONENT_CHARS + 9
    assert len(component.encode()) <= 255
    for pure in (PurePosixPath, PureWindowsPath):
        joined = pure("results") / component
        assert joined.parent == pure("results") and joined.name == component
    assert component.split(".")[0].upper() not in ("CON", "PRN", "AUX", "NUL")


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_stay_one_component(name):
    _stays_inside(path_component(name))


@given(st.text(max_size=300))
def test_any_name_stays_one_component(name):
    _stays_inside(path_component(name))


@given(st.text(max_size=40), st.text(max_size=40))
def test_different_names_get_different_components(a, b):
    if a != b:
        assert path_component(a) != path_component(b)


@pytest.mark.parametrize("name", ["guarantees-vs-pressure", "summit_formats", "sweep.v2",
                                  "Путин-Зеленский", "run1"])
def test_plain_names_are_kept_as_they_are(name):
    assert path_component(name) == name


def test_the_component_is_a_directory_that_can_be_made(tmp_path: Path):
    for name in HOSTILE:
        target = tmp_path / "results" / path_component(name)
        target.mkdir(parents=True)
        assert target.resolve().parent == (tmp_path / "results").resolve()
    assert len(os.listdir(tmp_path / "results")) == len(set(HOSTILE))
