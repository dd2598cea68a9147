"""Normalisation of scam text (each evasion undone, the map back to the source kept) and number extraction
(phonenumbers plus 95xxx and 400/800 codes, split where separators were, checked against official channels
with their dates). Every number here is fictitious (138-0000-xxxx, 400-000-xxxx and the made-up official
codes of official_channels.yaml)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fengkong.errors import InputError
from fengkong.fraud.numbers import NumberKind, classify, extract_numbers, load_channels
from fengkong.fraud.text import normalise

ON = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("客服熱線", "客服热线"),  # traditional -> simplified
        ("官方网(wang)址", "官方网址"),  # pinyin annotation
        ("客（kè）服（fú）", "客服"),  # full-width brackets and tone marks
        ("客*服~热 线", "客服热线"),  # inserted symbols and spaces between characters
        ("４００１２３", "400123"),  # full-width digits (NFKC)
        ("4OO-OOO-l234", "4000001234"),  # look-alike letters inside a digit run
        ("四零零零零零一二三四", "4000001234"),  # Chinese numerals forming a number
        ("肆零零-零零零-壹贰叁肆", "4000001234"),  # financial numerals
        ("400 - 000 - 1234", "4000001234"),  # separators between digits
        ("4\u20e30\u20e30\u20e3", "400"),  # keycap digits: the enclosing mark is dropped
        ("客\u200b服", "客服"),  # zero-width space
    ],
)
def test_each_evasion_is_undone(source: str, expected: str) -> None:
    assert normalise(source).text == expected


@pytest.mark.parametrize(
    "source",
    [
        "一一对应，三五成群",  # numerals that are words, not numbers
        "Hello 2024 lol",  # letters of a word beside a number
        "ISO 9001 OK",
        "你好，世界。明天见！",  # sentence punctuation between characters is kept
    ],
)
def test_ordinary_text_is_left_alone(source: str) -> None:
    assert normalise(source).text == source.replace("，", ",").replace("！", "!")


def test_the_map_back_gives_the_number_as_written() -> None:
    text = normalise("请拨打４ＯＯ－０００－l234咨询")
    start = text.text.index("4000001234")
    assert text.raw(start, start + 10) == "４ＯＯ－０００－l234"
    assert text.gap_before(start + 3)  # a dash was removed between 400 and 000
    assert not text.gap_before(start + 1)


@given(st.text(max_size=200))
def test_normalise_never_fails_and_every_character_maps_to_the_source(source: str) -> None:
    text = normalise(source)
    assert len(text.origin) == len(text.text)
    assert all(0 <= i < len(source) for i in text.origin)
    assert list(text.origin) == sorted(text.origin)


def test_overlong_text_is_refused_naming_the_bound() -> None:
    with pytest.raises(InputError, match="scam_text_characters_max"):
        normalise("a" * 20_001)


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("13800001234", ("13800001234", NumberKind.MOBILE)),
        ("+8613800001234", ("13800001234", NumberKind.MOBILE)),
        ("0086013800001234", ("13800001234", NumberKind.MOBILE)),  # 0086 with a stray trunk 0
        ("4000001234", ("4000001234", NumberKind.HOTLINE)),
        ("8000000002", ("8000000002", NumberKind.HOTLINE)),
        ("95000", ("95000", NumberKind.SHORT_CODE)),
        ("+864000001234", ("4000001234", NumberKind.HOTLINE)),
        ("01055550123", ("01055550123", NumberKind.LANDLINE)),
        ("+12025550123", ("+12025550123", NumberKind.INTERNATIONAL)),
        ("12345", None),
        ("20260301", None),  # a date, not a number
        ("1380000123", None),  # one digit short
    ],
)
def test_classify(digits: str, expected: tuple[str, NumberKind] | None) -> None:
    assert classify(digits) == expected


def test_phonenumbers_alone_misses_service_codes_the_extractor_finds() -> None:
    import phonenumbers

    text = "客服95000，热线400 000 1234"
    found = {m.raw_string for m in phonenumbers.PhoneNumberMatcher(text, "CN")}
    assert "95000" not in found
    numbers = extract_numbers(normalise(text))
    assert [(n, k) for _, n, k in numbers] == [
        ("95000", NumberKind.SHORT_CODE),
        ("4000001234", NumberKind.HOTLINE),
    ]


def test_numbers_written_one_after_another_are_split_where_separators_were() -> None:
    numbers = extract_numbers(normalise("联系 138 0000 1234 138 0000 1235 或 95000"))
    assert [(raw, n) for raw, n, _ in numbers] == [
        ("138 0000 1234", "13800001234"),
        ("138 0000 1235", "13800001235"),
        ("95000", "95000"),
    ]


def test_a_number_inside_an_order_code_is_not_a_phone_number() -> None:
    assert extract_numbers(normalise("订单号DD13800001234")) == []


def test_official_channels_are_checked_with_their_dates() -> None:
    book = load_channels()
    assert book.brand_of("95000", ON) == "示例花"
    assert book.brand_of("4000000009", date(2025, 6, 30)) == "示例花"  # last day in force
    assert book.brand_of("4000000009", date(2025, 7, 1)) is None  # retired
    assert book.was_official("4000000009") == "示例花"
    assert book.brand_of("4000000001", date(2025, 6, 30)) is None  # not yet in force
    assert book.brand_of("4000000001", ON) == "示例花"
    found = book.check(normalise("示例花客服 95000，另一个 400-000-6618"), ON)
    assert [(n.normalised, n.official, n.official_brand) for n in found] == [
        ("95000", True, "示例花"),
        ("4000006618", False, None),
    ]
    assert book.brands_named("样板借的客服") == ("样板借",)


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ("brands: 3", "official_channels"),
        ("[", "official_channels"),
        ("brands:\n  - names: [x]", "brands[0]"),
        (
            "brands:\n  - brand: A\n    channels:\n      - number: '12'\n        effective_from: 2020-01-01",
            "brands[0].channels[0]",
        ),
        (
            "brands:\n  - brand: A\n    channels:\n      - number: '95000'\n        effective_from: soon",
            "brands[0].channels[0].effective_from",
        ),
        (
            "brands:\n  - brand: A\n    channels:\n      - number: '95000'\n"
            "        effective_from: 2020-01-02\n        effective_to: 2020-01-01",
            "brands[0].channels[0]",
        ),
        ("brands:\n  - brand: A\n  - brand: A", "brands[1]"),
    ],
)
def test_a_bad_channel_file_is_refused_naming_the_entry(document: str, field: str) -> None:
    with pytest.raises(InputError) as raised:
        load_channels(document)
    assert raised.value.field == field


def test_the_packaged_channels_are_fictitious_patterns() -> None:
    """Every packaged number is a run of zeros or a 138-0000 documentation-style mobile."""
    for channel in load_channels().channels:
        digits = channel.normalised
        assert digits.startswith(("40000000", "80000000", "9500", "1380000")), digits
