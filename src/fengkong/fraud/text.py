"""Normalising scam text so that its evasions stop working.

Fake "official customer-service hotline" posts hide from keyword filters with traditional characters,
pinyin annotations such as 网(wang), symbols or spaces inserted between characters (客*服 热~线), full-width
or look-alike digits (４ＯＯ-8OO-l234) and Chinese numerals (四零零 or 肆零零). :func:`normalise` undoes each,
in order:

1. Unicode NFKC per character (full-width letters and digits, circled digits, compatibility forms), and
   zero-width and other format characters, enclosing marks (keycaps) and variation selectors dropped;
2. traditional → simplified Chinese (OpenCC ``t2s``);
3. pinyin annotations right after a Chinese character removed: ``网(wang)``, ``客（kè）``;
4. symbols and spaces inserted between two Chinese characters removed (sentence punctuation such as
   ``，。！？；：、`` is kept: it separates clauses, it does not hide words);
5. look-alike digits mapped inside digit runs (``O``/``o`` → 0, ``l``/``I``/``|`` → 1) and runs of Chinese
   numerals (零一二三四五六七八九〇幺 and the financial forms 壹贰叁肆伍陆柒捌玖) that form a number of at
   least :data:`NUMERAL_RUN_DIGITS_MIN` digits mapped to ASCII digits;
6. separators (spaces, dashes, dots, stars...) between digits removed, so ``400 - 123 - 4567`` reads
   ``4001234567``.

The result keeps, for every character, the index of the source character it came from
(:attr:`NormalisedText.origin`), so a number found in the normalised text is reported as the caller wrote
it (:meth:`NormalisedText.raw`), and :meth:`NormalisedText.gap_before` tells where separators were removed
between digits (the number extractor splits two numbers written one after the other there).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

import opencc

from fengkong import bounds
from fengkong.errors import InputError

#: Chinese numerals read as digits when they form a number (幺 is "one" when reading out phone numbers).
CHINESE_DIGITS: Final = {
    "零": "0",
    "〇": "0",
    "一": "1",
    "幺": "1",
    "二": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
    "壹": "1",
    "贰": "2",
    "叁": "3",
    "肆": "4",
    "伍": "5",
    "陆": "6",
    "柒": "7",
    "捌": "8",
    "玖": "9",
}
#: Latin letters that pass for digits inside a digit run.
LOOKALIKE_DIGITS: Final = {"O": "0", "o": "0", "l": "1", "I": "1", "|": "1"}
#: The shortest run of Chinese numerals (digits mixed in) read as a number: a 95xxx service code has five.
NUMERAL_RUN_DIGITS_MIN: Final = 5
#: Clause punctuation kept between Chinese characters (after NFKC: ASCII forms of the full-width ones).
SENTENCE_PUNCTUATION: Final = frozenset("，。！？；：、,.!?;:…\n")

_PINYIN = re.compile(
    r"(?<=[\u3400-\u9fff])\s*[(\[{【〔]\s*[a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüê]{1,7}[1-5]?\s*[)\]}】〕]"
)


def _is_cjk(character: str) -> bool:
    return "\u3400" <= character <= "\u9fff" or "\uf900" <= character <= "\ufaff"


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """The normalised ``text`` of ``source``; ``origin[i]`` is the source index ``text[i]`` came from."""

    source: str
    text: str
    origin: tuple[int, ...]

    def raw(self, start: int, end: int) -> str:
        """The source text behind ``text[start:end]`` (separators between its characters included)."""
        if not 0 <= start < end <= len(self.text):
            raise InputError(f"span {start}:{end} is outside the text", field="span")
        return self.source[self.origin[start] : self.origin[end - 1] + 1]

    def gap_before(self, index: int) -> bool:
        """Whether something was removed between ``text[index - 1]`` and ``text[index]``."""
        return 0 < index < len(self.text) and self.origin[index] - self.origin[index - 1] > 1


@functools.cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _simplified(characters: list[tuple[str, int]]) -> list[tuple[str, int]]:
    text = "".join(c for c, _ in characters)
    converted = _converter().convert(text)
    if len(converted) == len(text):
        return [(new, index) for new, (_, index) in zip(converted, characters, strict=True)]
    # A phrase changed length: convert character by character so every index still lines up.
    result = []
    for character, index in characters:
        single = _converter().convert(character)
        result.append((single if len(single) == 1 else character, index))
    return result


def _drop_pinyin(characters: list[tuple[str, int]]) -> list[tuple[str, int]]:
    text = "".join(c for c, _ in characters)
    keep = [True] * len(characters)
    for match in _PINYIN.finditer(text):
        for position in range(match.start(), match.end()):
            keep[position] = False
    return [pair for pair, kept in zip(characters, keep, strict=True) if kept]


_CJK: Final = "\u3400-\u9fff\uf900-\ufaff"
_RUN: Final = bounds.scam_inserted_run_characters_max
_KEPT_BETWEEN_CJK: Final = re.escape("".join(sorted(SENTENCE_PUNCTUATION)))
#: Separators (anything but letters, digits and newlines; sentence punctuation kept) between two CJK.
_BETWEEN_CJK: Final = re.compile(rf"(?<=[{_CJK}])(?:[^\w{_KEPT_BETWEEN_CJK}]|_){{1,{_RUN}}}(?=[{_CJK}])")
#: Separators between two ASCII digits (a ``+`` starts a number, a newline ends one).
_BETWEEN_DIGITS: Final = re.compile(rf"(?<=[0-9])(?:[^\w\n+]|_){{1,{_RUN}}}(?=[0-9])")
_DIGITISH: Final = "0-9" + "".join(CHINESE_DIGITS) + re.escape("".join(LOOKALIKE_DIGITS))
#: A run of digits, numerals and look-alikes, separators allowed between them.
_DIGITISH_RUN: Final = re.compile(
    rf"[{_DIGITISH}](?:(?:[^\w{_KEPT_BETWEEN_CJK}]|_){{0,{_RUN}}}[{_DIGITISH}])*"
)


def _drop_inserted(characters: list[tuple[str, int]], pattern: re.Pattern[str]) -> list[tuple[str, int]]:
    """Drop every match of ``pattern`` (runs of separators between two CJK characters or two digits)."""
    text = "".join(c for c, _ in characters)
    keep = [True] * len(characters)
    for match in pattern.finditer(text):
        for position in range(match.start(), match.end()):
            keep[position] = False
    return [pair for pair, kept in zip(characters, keep, strict=True) if kept]


def _map_digits(characters: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Look-alike letters inside digit runs, and runs of Chinese numerals, become ASCII digits."""
    result = list(characters)
    text = "".join(c for c, _ in characters)
    for match in _DIGITISH_RUN.finditer(text):
        run = match.group(0)
        real_digits = sum(1 for c in run if "0" <= c <= "9")
        numerals = sum(1 for c in run if c in CHINESE_DIGITS)
        lookalikes = sum(1 for c in run if c in LOOKALIKE_DIGITS)
        # Look-alike letters count only beside real digits (a word like "Io" is not a number); Chinese
        # numerals only when the run is long enough to be a number rather than words like 一一 or 三五.
        if real_digits + numerals + lookalikes < NUMERAL_RUN_DIGITS_MIN or (
            real_digits < 2 and numerals < NUMERAL_RUN_DIGITS_MIN - 1
        ):
            continue
        before = text[match.start() - 1] if match.start() else ""
        after = text[match.end()] if match.end() < len(text) else ""
        in_word = (before.isascii() and before.isalpha()) or (after.isascii() and after.isalpha())
        if lookalikes and in_word:
            continue  # letters of a word next to a number (Hello 2024, lol), not a disguised number
        for index in range(match.start(), match.end()):
            character, origin = result[index]
            mapped = CHINESE_DIGITS.get(character) or LOOKALIKE_DIGITS.get(character)
            if mapped is not None:
                result[index] = (mapped, origin)
    return result


def normalise(text: str) -> NormalisedText:
    """The normalised text with its map back to ``text`` (see the module docstring for the steps)."""
    if not isinstance(text, str):
        raise InputError("text must be a string", field="text")
    if len(text) > bounds.scam_text_characters_max:
        raise InputError(
            f"text has {len(text)} characters; at most {bounds.scam_text_characters_max} "
            "(scam_text_characters_max)",
            field="text",
        )
    characters: list[tuple[str, int]] = []
    for index, character in enumerate(text):
        if unicodedata.category(character) in {"Cf", "Me"} or "\ufe00" <= character <= "\ufe0f":
            # Zero-width spaces and joiners, enclosing marks (the keycap of 4⃣) and emoji variation
            # selectors change how a character looks, not what it says.
            continue
        for part in unicodedata.normalize("NFKC", character):
            characters.append((part, index))
    characters = _simplified(characters)
    characters = _drop_pinyin(characters)
    characters = _drop_inserted(characters, _BETWEEN_CJK)
    characters = _map_digits(characters)
    characters = _drop_inserted(characters, _BETWEEN_DIGITS)
    return NormalisedText(text, "".join(c for c, _ in characters), tuple(i for _, i in characters))
