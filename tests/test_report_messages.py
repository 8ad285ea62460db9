"""The report's message catalogue: every language has the same messages with the same fields."""

from __future__ import annotations

from string import Formatter

import pytest

from openpcf.reports import i18n


def _fields(message: str) -> set[str]:
    """The ``{name}`` fields of a :meth:`str.format` message."""
    return {name for _, name, _, _ in Formatter().parse(message) if name is not None}


@pytest.mark.parametrize("lang", [lang for lang in i18n.LANGUAGES if lang != "en"])
def test_languages_have_the_same_keys(lang: str) -> None:
    english, other = i18n.messages("en"), i18n.messages(lang)
    assert sorted(set(english) - set(other)) == [], f"missing in {lang}"
    assert sorted(set(other) - set(english)) == [], f"only in {lang}"


@pytest.mark.parametrize("lang", [lang for lang in i18n.LANGUAGES if lang != "en"])
def test_languages_have_the_same_placeholders(lang: str) -> None:
    english, other = i18n.messages("en"), i18n.messages(lang)
    differ = {
        key: (_fields(english[key]), _fields(other[key]))
        for key in english.keys() & other.keys()
        if _fields(english[key]) != _fields(other[key])
    }
    assert differ == {}


def test_every_section_and_checklist_key_has_a_message() -> None:
    keys = set(i18n.SECTIONS) | {key for key, _ in i18n.CHECKLIST}
    for lang in i18n.LANGUAGES:
        assert sorted(keys - set(i18n.messages(lang))) == [], lang


def test_the_catalogue_is_read_once_and_read_only() -> None:
    assert i18n.messages("zh") is i18n.messages("zh")
    with pytest.raises(TypeError):
        i18n.messages("en")["title"] = "changed"  # type: ignore[index]
