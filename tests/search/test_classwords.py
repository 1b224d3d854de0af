"""Class words: the words people use for what they saw map to the analysis's classes, and say so."""

from __future__ import annotations

import pytest
from searchscene import Scene

from camfind.errors import InputError
from camfind.index import Index
from camfind.search.classwords import CLASS_WORDS, aliases_help, resolve_class
from camfind.search.query import SearchQuery, search
from camfind.types import CLASSES


@pytest.mark.parametrize(
    ("word", "classes"),
    [
        ("xe máy", ("motorcycle",)), ("Xe May", ("motorcycle",)), ("xe-may", ("motorcycle",)),
        ("motorbike", ("motorcycle",)), ("motorbikes", ("motorcycle",)), ("scooter", ("motorcycle",)),
        ("moto", ("motorcycle",)), ("bike", ("motorcycle", "bicycle")), ("bikes", ("motorcycle", "bicycle")),
        ("xe đạp", ("bicycle",)), ("xe dap", ("bicycle",)), ("XE ĐẠP", ("bicycle",)), ("bicycles", ("bicycle",)),
        ("ô tô", ("car",)), ("oto", ("car",)), ("xe hơi", ("car",)), ("cars", ("car",)),
        ("xe tải", ("truck",)), ("xe buýt", ("bus",)), ("buses", ("bus",)), ("người", ("person",)),
        ("nguoi", ("person",)), ("  car ", ("car",)),
    ],
)
def test_words_people_use(word: str, classes: tuple[str, ...]) -> None:
    assert resolve_class(word).classes == classes


def test_an_alias_says_what_it_means_a_class_name_does_not() -> None:
    assert resolve_class("car").note == "" and resolve_class("motorcycle").note == ""
    assert resolve_class("xe máy").note == "'xe máy' means motorcycle"
    assert "searching both (--class motorcycle or --class bicycle for one)" in resolve_class("bike").note
    assert resolve_class("vehicle").note.startswith("'vehicle' means any vehicle")


def test_every_alias_maps_to_real_classes_and_is_in_the_help() -> None:
    shown = aliases_help()
    for alias, classes in CLASS_WORDS.items():
        assert set(classes) <= set(CLASSES) and alias in shown
        assert resolve_class(alias).classes == classes


def test_unknown_word_names_the_choices() -> None:
    with pytest.raises(InputError, match="unknown class 'tank': expected one of person, .*xe máy"):
        resolve_class("tank")


def test_bike_finds_the_motorbikes(street: tuple[Index, Scene]) -> None:
    idx, _ = street  # the street's one two-wheeler is a motorbike at B
    found = search(idx, SearchQuery(cls="bike"))
    assert [(s.camera_id, s.cls) for s in found] == [("B", "motorcycle")]
    assert [s.camera_id for s in search(idx, SearchQuery(cls="xe máy"))] == ["B"]
    assert search(idx, SearchQuery(cls="xe đạp")) == []
