"""Phone numbers and service codes in a text, each checked against the brands' official channels.

Extraction (:func:`extract_numbers`) reads the *normalised* text (:mod:`fengkong.fraud.text`), where
separators between digits are already gone, and looks at every run of digits:

* a run that is one number is classified whole; a run that is several numbers written one after the other
  (``138 0000 1234 138 0000 1235``) is split at the places where separators were removed, choosing the split
  that covers most digits with valid numbers;
* mobile numbers, landlines and international numbers are parsed and validated with ``phonenumbers``
  (region CN); odd prefixes such as ``0086``, ``+86`` and a stray trunk ``0`` after them are stripped;
* the service numbers ``phonenumbers`` alone does not report — five- or six-digit ``95xxx`` codes and
  ten-digit ``400``/``800`` numbers in any grouping — are recognised by their shape.

Every number gets one normalised spelling: national digits for Chinese numbers (``13800001234``,
``4000000001``, ``95000``, ``01012345678``), E.164 for others (``+12025550123``).

Official channels (:class:`ChannelBook`) come from YAML (default: the packaged
``data/official_channels.yaml``, fictitious brands and numbers only): per brand, its names and its numbers
with the business dates they are in force. :meth:`ChannelBook.brand_of` answers which brand, if any, a
normalised number belonged to on a date.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from importlib import resources
from typing import Final

import phonenumbers
import yaml

from fengkong import bounds
from fengkong.errors import InputError
from fengkong.fraud.text import NormalisedText


class NumberKind(StrEnum):
    MOBILE = "mobile"
    LANDLINE = "landline"
    HOTLINE = "hotline"  # 400/800 ten-digit numbers
    SHORT_CODE = "short_code"  # 95xxx service codes
    INTERNATIONAL = "international"


@dataclass(frozen=True, slots=True)
class FoundNumber:
    """A number as written (``raw``), its one spelling (``normalised``), its kind, and the brand whose
    official channel it is on the date checked (``None``: no brand's)."""

    raw: str
    normalised: str
    kind: NumberKind
    official_brand: str | None

    @property
    def official(self) -> bool:
        return self.official_brand is not None

    def to_json(self) -> dict[str, object]:
        return {
            "raw": self.raw,
            "normalised": self.normalised,
            "official": self.official,
            "kind": self.kind.value,
            "brand": self.official_brand,
        }


_MOBILE: Final = re.compile(r"1[3-9]\d{9}")
_HOTLINE: Final = re.compile(r"[48]00\d{7}")
_SHORT_CODE: Final = re.compile(r"95\d{3,4}")
_LANDLINE: Final = re.compile(r"0[1-9]\d{8,10}")
_COUNTRY_PREFIX: Final = re.compile(r"(?:\+|00)?86(0?)")
_DIGIT_RUN: Final = re.compile(r"\+?\d+")


def _valid_cn(national: str) -> bool:
    try:
        parsed = phonenumbers.parse(national, "CN")
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(parsed))


def classify(digits: str) -> tuple[str, NumberKind] | None:
    """The normalised spelling and kind of ``digits`` (optionally ``+``-prefixed), or ``None``."""
    if digits.startswith("+") and not digits.startswith("+86"):
        try:
            parsed = phonenumbers.parse(digits, None)
        except phonenumbers.NumberParseException:
            return None
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), (
                NumberKind.INTERNATIONAL
            )
        return None
    national = digits
    prefix = _COUNTRY_PREFIX.match(digits)
    if prefix is not None and len(digits) - prefix.end() in {10, 11}:
        national = digits[prefix.end() :]
        if (_MOBILE.fullmatch(national) or _HOTLINE.fullmatch(national)) is None:
            national = "0" + national if not national.startswith("0") else national
    elif digits.startswith("+"):
        return None
    if _HOTLINE.fullmatch(national):
        return national, NumberKind.HOTLINE
    if _SHORT_CODE.fullmatch(national):
        return national, NumberKind.SHORT_CODE
    if _MOBILE.fullmatch(national) and _valid_cn(national):
        return national, NumberKind.MOBILE
    if _LANDLINE.fullmatch(national) and _valid_cn(national):
        return national, NumberKind.LANDLINE
    return None


def _split(run: str, cuts: Sequence[int]) -> list[tuple[int, int, str, NumberKind]]:
    """The split of ``run`` at some of ``cuts`` that covers most digits with numbers (dynamic programme)."""
    points = [0, *cuts, len(run)]
    best: list[tuple[int, list[tuple[int, int, str, NumberKind]]]] = [(0, [])] * len(points)
    for end_index in range(1, len(points)):
        # Without a number ending here, carry over the best up to the previous cut.
        best[end_index] = best[end_index - 1]
        for start_index in range(end_index - 1, -1, -1):
            start, end = points[start_index], points[end_index]
            found = classify(run[start:end])
            if found is None:
                continue
            covered = best[start_index][0] + (end - start)
            if covered > best[end_index][0]:
                best[end_index] = (covered, [*best[start_index][1], (start, end, found[0], found[1])])
    return best[-1][1]


def _runs(text: NormalisedText) -> Iterator[tuple[int, int]]:
    for match in _DIGIT_RUN.finditer(text.text):
        start, end = match.span()
        before = text.text[start - 1] if start else ""
        if before.isascii() and before.isalpha():
            continue  # inside an order or tracking code such as DD2026...
        yield start, end


def extract_numbers(text: NormalisedText) -> list[tuple[str, str, NumberKind]]:
    """``(raw, normalised, kind)`` of every number in ``text``, in order, each normalised number once."""
    found: list[tuple[str, str, NumberKind]] = []
    seen: set[str] = set()
    for start, end in _runs(text):
        if end - start > bounds.scam_digit_run_digits_max:
            end = start + bounds.scam_digit_run_digits_max
        run = text.text[start:end]
        whole = classify(run)
        if whole is not None:
            pieces = [(0, len(run), whole[0], whole[1])]
        else:
            cuts = [i - start for i in range(start + 1, end) if text.gap_before(i)]
            pieces = _split(run, cuts)
        for piece_start, piece_end, normalised, kind in pieces:
            if normalised in seen:
                continue
            seen.add(normalised)
            found.append((text.raw(start + piece_start, start + piece_end), normalised, kind))
            if len(found) >= bounds.scam_numbers_per_text_max:
                return found
    return found


@dataclass(frozen=True, slots=True)
class Channel:
    """One official number of a brand, in force from ``effective_from`` to ``effective_to`` (inclusive)."""

    brand: str
    normalised: str
    kind: NumberKind
    effective_from: date
    effective_to: date | None

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


@dataclass(frozen=True, slots=True)
class ChannelBook:
    """The brands (with the names they go by) and their official channels."""

    names: Mapping[str, tuple[str, ...]]
    channels: tuple[Channel, ...]

    def brand_of(self, normalised: str, on: date) -> str | None:
        """The brand whose official channel ``normalised`` is on ``on``, or ``None``."""
        for channel in self.channels:
            if channel.normalised == normalised and channel.in_force(on):
                return channel.brand
        return None

    def numbers_of(self, brand: str, on: date) -> tuple[str, ...]:
        """The normalised numbers of ``brand``'s channels in force on ``on`` (for an official call-back)."""
        return tuple(c.normalised for c in self.channels if c.brand == brand and c.in_force(on))

    def was_official(self, normalised: str) -> str | None:
        """The brand that ever had ``normalised`` as a channel (retired or future), or ``None``."""
        for channel in self.channels:
            if channel.normalised == normalised:
                return channel.brand
        return None

    def brands_named(self, text: str) -> tuple[str, ...]:
        """Brands one of whose names appears in ``text`` (a normalised text; case ignored)."""
        lowered = text.lower()
        return tuple(b for b, names in self.names.items() if any(n.lower() in lowered for n in names))

    def check(self, text: NormalisedText, on: date) -> list[FoundNumber]:
        return [
            FoundNumber(raw, normalised, kind, self.brand_of(normalised, on))
            for raw, normalised, kind in extract_numbers(text)
        ]


def _date(value: object, field: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InputError(f"is not a date (YYYY-MM-DD): {value!r}", field=field)


def load_channels(text: str | None = None) -> ChannelBook:
    """The channel book from YAML text (default: the packaged ``data/official_channels.yaml``)."""
    if text is None:
        text = resources.files("fengkong.fraud").joinpath("data", "official_channels.yaml").read_text("utf-8")
    if len(text.encode("utf-8")) > bounds.scam_channels_file_bytes_max:
        raise InputError(
            f"larger than {bounds.scam_channels_file_bytes_max} bytes (scam_channels_file_bytes_max)",
            field="official_channels",
        )
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InputError(f"is not YAML: {error}", field="official_channels") from error
    if not isinstance(document, dict) or not isinstance(document.get("brands"), list):
        raise InputError("needs a list under 'brands'", field="official_channels")
    names: dict[str, tuple[str, ...]] = {}
    channels: list[Channel] = []
    for position, entry in enumerate(document["brands"]):
        where = f"brands[{position}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("brand"), str) or not entry["brand"]:
            raise InputError("needs a non-empty 'brand'", field=where)
        brand = entry["brand"]
        if brand in names:
            raise InputError(f"brand {brand!r} is listed twice", field=where)
        aliases = entry.get("names", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
            raise InputError("'names' is a list of non-empty strings", field=f"{where}.names")
        names[brand] = tuple(dict.fromkeys([brand, *aliases]))
        for index, raw in enumerate(entry.get("channels", [])):
            field = f"{where}.channels[{index}]"
            if not isinstance(raw, dict):
                raise InputError("is not a mapping", field=field)
            digits = re.sub(r"[\s\-.()]", "", str(raw.get("number", "")))
            classified = classify(digits)
            if classified is None:
                raise InputError(f"number {raw.get('number')!r} is not a phone number or code", field=field)
            start = _date(raw.get("effective_from"), f"{field}.effective_from")
            end = (
                None
                if raw.get("effective_to") is None
                else _date(raw["effective_to"], f"{field}.effective_to")
            )
            if end is not None and end < start:
                raise InputError("effective_to is before effective_from", field=field)
            channels.append(Channel(brand, classified[0], classified[1], start, end))
    return ChannelBook(names, tuple(channels))
