"""The policy language: rules and decision tables in a YAML file, expressions in CEL compiled once at load.

A policy file has these sections (``policies/default.yaml`` is the worked example)::

    policy:       name, version, description
    models:       champion (its probability of default picks the risk band), inline (scored on every
                  decision that reaches the credit stage), challengers (scored in shadow, never deciding)
    eligibility:  age_years_min, age_years_max, identity_verified_required, blocklists, debt_service_ratio_max
    products:     per product: repayment method, day count, installments allowed, amount range, and for lines
                  the share of the line counted as a monthly payment in the affordability test
    risk_bands:   the decision table: probability of default → band, annual rate, line cap, income multiple
    pricing:      offer_validity_days, reference_principal_fen (the price grid's reference loan), rounding,
                  authorisation_hold_hours
    rules:        id, stage, flows, when (a CEL expression), outcome, reason, priority, if_missing

Rules. ``when`` is a `CEL <https://cel.dev>`_ expression compiled by the ``common-expression-language``
package (a compiled Rust evaluator: no ``eval``, no attribute access, no loops, so a rule always ends).
A rule *fires* when its expression is true; the decision's outcome is the strictest outcome of the rules that
fired (:class:`~fengkong.domain.Outcome`: approve < review < decline), and the fired rules' reason codes,
ordered by outcome then ``priority``, are the decision's reasons.

Variables. A rule reads feature values by their names in the feature set (``device_accounts_distinct_30d``)
and the inputs of its flow (:data:`ONBOARDING_INPUTS`, :data:`AUTHORISATION_INPUTS`); credit-stage rules also
read the scores (``pd_champion``, ``pd_<model>``). **Every number is a CEL double**: comparisons with integer
literals work (``x >= 5``), arithmetic needs double literals (``2.0 * x``). A feature with no value (no
events) is *missing*: a rule reading a missing value is not evaluated and takes ``if_missing`` (``pass``, the
default, or ``fire``). A rule that fails at run time (say, a string compared with a number that slipped
through) counts as fired with outcome ``review`` and reason ``policy:rule_error``: an error never approves.

Load-time checks. Every problem is a :class:`~fengkong.decisions.policy_yaml.PolicyError` naming the file,
the line and the problem: unknown sections and keys, wrong types, floats where a decimal string is meant,
unknown variables, a score read before the credit stage, an expression that does not compile, or that fails
when run on probe values of the right types (``1.0 * "x"``), duplicate rule IDs, reason codes with no
customer text, bands out of order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Literal, NamedTuple

import cel

from fengkong import bounds
from fengkong.compliance.reasons import ReasonDictionary, default_reason_texts
from fengkong.decisions.policy_yaml import LocatedMap, PolicyError, load_located, read_policy_text
from fengkong.domain.decision import Outcome
from fengkong.domain.products import DayCount, ProductKind, RepaymentMethod
from fengkong.errors import InputError
from fengkong.features.spec import FeatureSet
from fengkong.features.standard import STANDARD_FEATURES
from fengkong.money import ROUNDING_MODES, Rounding


class Flow(StrEnum):
    ONBOARDING = "onboarding"
    AUTHORISATION = "authorisation"


class Stage(StrEnum):
    """Stages in the order a flow runs them; ``credit`` runs after the models, the others before."""

    IDENTITY = "identity"
    FRAUD = "fraud"
    VELOCITY = "velocity"
    ELIGIBILITY = "eligibility"
    AUTHORISATION = "authorisation"
    CREDIT = "credit"


STAGE_ORDER: Final = tuple(Stage)
PRE_SCORE_STAGES: Final = frozenset(STAGE_ORDER) - {Stage.CREDIT}

VariableKind = Literal["double", "bool", "string"]

#: inputs of an application for new credit, as rules see them
ONBOARDING_INPUTS: Final[Mapping[str, VariableKind]] = {
    "requested_amount_fen": "double",
    "installments": "double",
    "age_years": "double",
    "identity_verified": "bool",
    "monthly_income_fen": "double",
    "monthly_debt_payments_fen": "double",
    "product": "string",
    "fraud_score": "double",
    "blocklisted": "bool",
}
#: inputs of a purchase or draw against a line, as rules see them
AUTHORISATION_INPUTS: Final[Mapping[str, VariableKind]] = {
    "amount_fen": "double",
    "available_fen": "double",
    "limit_fen": "double",
    "product": "string",
    "merchant_category": "string",
    "fraud_score": "double",
    "blocklisted": "bool",
}
FLOW_INPUTS: Final[Mapping[Flow, Mapping[str, VariableKind]]] = {
    Flow.ONBOARDING: ONBOARDING_INPUTS,
    Flow.AUTHORISATION: AUTHORISATION_INPUTS,
}
CHAMPION_SCORE: Final = "pd_champion"
RULE_ERROR_REASON: Final = "policy:rule_error"
BLOCKLIST_KINDS: Final = ("party", "device", "phone", "ip")
_PROBE_VALUES: Final[Mapping[VariableKind, object]] = {"double": 1.0, "bool": True, "string": "probe"}
_OUTCOMES: Final = {outcome.label: outcome for outcome in Outcome}

RuleStatus = Literal["fired", "passed", "missing", "error", "not_run"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule. ``variables`` are the names its expression reads, known at compile time."""

    rule_id: str
    stage: Stage
    flows: tuple[Flow, ...]
    expression: str
    outcome: Outcome
    reason: str
    priority: int
    if_missing: Literal["pass", "fire"]
    description: str
    line: int
    variables: tuple[str, ...]
    program: Any = field(compare=False, repr=False)


class RuleResult(NamedTuple):
    """What one rule did: fired, passed, missing (a value it reads is missing), error or not run; the
    values it read, in the order of ``Rule.variables``. A named tuple: one is made per rule per decision."""

    rule_id: str
    status: RuleStatus
    values: tuple[tuple[str, float | bool | str | None], ...] = ()
    error: str = ""

    @property
    def fired(self) -> bool:
        return self.status in ("fired", "error")


def evaluate_rule(rule: Rule, values: Mapping[str, object]) -> RuleResult:
    """Run one rule over ``values`` (every variable it reads must be a key; None is a missing value)."""
    read: dict[str, Any] = {name: values[name] for name in rule.variables}
    if None in read.values():
        return RuleResult(
            rule.rule_id, "fired" if rule.if_missing == "fire" else "missing", tuple(read.items())
        )
    try:
        result = rule.program.execute(read)
    except (TypeError, ValueError, RuntimeError, ZeroDivisionError, OverflowError) as error:
        return RuleResult(rule.rule_id, "error", tuple(read.items()), str(error).splitlines()[0])
    if result is True:
        return RuleResult(rule.rule_id, "fired", tuple(read.items()))
    if result is False:
        return RuleResult(rule.rule_id, "passed", tuple(read.items()))
    return RuleResult(
        rule.rule_id, "error", tuple(read.items()), f"returned {type(result).__name__}, not a boolean"
    )


def rule_outcome(rule: Rule, result: RuleResult) -> tuple[Outcome, str] | None:
    """The outcome and reason code a result contributes, or None when the rule did not fire."""
    if result.status == "error":
        return Outcome.REVIEW, RULE_ERROR_REASON
    if result.status == "fired":
        return rule.outcome, rule.reason
    return None


@dataclass(frozen=True, slots=True)
class RiskBand:
    """A row of the decision table: probabilities of default up to ``pd_max`` take this band."""

    band: str
    pd_max: Decimal
    annual_rate: Decimal
    line_max_fen: int
    income_multiple: Decimal


@dataclass(frozen=True, slots=True)
class ProductPolicy:
    product: ProductKind
    method: RepaymentMethod
    day_count: DayCount
    installments: tuple[int, ...]
    amount_min_fen: int
    amount_max_fen: int
    line_monthly_payment_share: Decimal  # lines: the monthly payment counted against income (affordability)


@dataclass(frozen=True, slots=True)
class Eligibility:
    age_years_min: int
    age_years_max: int
    identity_verified_required: bool
    blocklists: tuple[str, ...]
    debt_service_ratio_max: Decimal


@dataclass(frozen=True, slots=True)
class Pricing:
    offer_validity_days: int
    reference_principal_fen: int
    rounding: Rounding
    authorisation_hold_hours: int  # an approved purchase's hold lasts this long unless converted or released


@dataclass(frozen=True, slots=True)
class Models:
    champion: str
    inline: tuple[str, ...]
    challengers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Policy:
    """A loaded, validated policy with every rule compiled. ``version`` ties a decision to the exact text."""

    name: str
    label: str
    description: str
    source: str
    digest: str  # SHA-256 of the file's text
    models: Models
    eligibility: Eligibility
    products: Mapping[ProductKind, ProductPolicy]
    risk_bands: tuple[RiskBand, ...]
    pricing: Pricing
    rules: tuple[Rule, ...]

    @property
    def version(self) -> str:
        return f"{self.name}@{self.label}+{self.digest[:12]}"

    def rules_for(self, flow: Flow) -> tuple[Rule, ...]:
        """The flow's rules in run order: by stage, then priority (highest first), then file order."""
        return tuple(rule for rule in self.rules if flow in rule.flows)

    def band_for(self, probability_of_default: float) -> RiskBand | None:
        """The first band whose ``pd_max`` is at least the probability; None above the last band."""
        value = Decimal(repr(probability_of_default))
        for band in self.risk_bands:
            if value <= band.pd_max:
                return band
        return None

    def feature_variables(self, flow: Flow) -> tuple[str, ...]:
        """Feature names the flow's rules read (inputs and scores excluded), in first-use order."""
        inputs = FLOW_INPUTS[flow]
        seen: dict[str, None] = {}
        for rule in self.rules_for(flow):
            for name in rule.variables:
                if name not in inputs and not _is_score(name, self.models):
                    seen[name] = None
        return tuple(seen)


def _is_score(name: str, models: Models) -> bool:
    return name == CHAMPION_SCORE or name in {f"pd_{model}" for model in models.inline}


# -- loading -----------------------------------------------------------------------------------------------

_SECTIONS: Final = ("policy", "models", "eligibility", "products", "risk_bands", "pricing", "rules")
_RULE_KEYS: Final = (
    "id",
    "stage",
    "flows",
    "when",
    "outcome",
    "reason",
    "priority",
    "if_missing",
    "description",
)


class _Reader:
    """Typed reads from located YAML that raise :class:`PolicyError` with the file and line."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, message: str, line: int, where: str) -> PolicyError:
        return PolicyError(message, path=self.source, line=line, where=where)

    def section(self, document: LocatedMap, key: str) -> LocatedMap:
        value = document.get(key)
        if value is None:
            raise self.error(f"the {key!r} section is missing", document.line, key)
        if not isinstance(value, LocatedMap):
            raise self.error("must be a mapping", document.key_lines[key], key)
        return value

    def keys(self, mapping: LocatedMap, allowed: Sequence[str], where: str) -> None:
        for key in mapping:
            if key not in allowed:
                raise self.error(
                    f"unknown key {key!r} (known: {', '.join(allowed)})", mapping.key_lines[key], where
                )

    def line(self, mapping: LocatedMap, key: str) -> int:
        return mapping.key_lines.get(key, mapping.line)

    def text(self, mapping: LocatedMap, key: str, where: str, *, default: str | None = None) -> str:
        value = mapping.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.error("must be non-empty text", self.line(mapping, key), f"{where}.{key}")
        return value.strip()

    def integer(
        self, mapping: LocatedMap, key: str, where: str, low: int, high: int, *, default: int | None = None
    ) -> int:
        value = mapping.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(
                f"must be a whole number, got {value!r}", self.line(mapping, key), f"{where}.{key}"
            )
        if not low <= value <= high:
            raise self.error(
                f"must be between {low} and {high}, got {value}", self.line(mapping, key), f"{where}.{key}"
            )
        return value

    def decimal(self, mapping: LocatedMap, key: str, where: str, low: Decimal, high: Decimal) -> Decimal:
        value = mapping.get(key)
        line = self.line(mapping, key)
        if isinstance(value, (bool, float)):
            raise self.error(
                f'write decimals as strings such as "0.18", not {value!r}', line, f"{where}.{key}"
            )
        if isinstance(value, int):
            result = Decimal(value)
        elif isinstance(value, str):
            try:
                result = Decimal(value.strip())
            except ArithmeticError:
                result = Decimal("NaN")
        else:
            raise self.error(f"must be a decimal string, got {value!r}", line, f"{where}.{key}")
        if not result.is_finite() or not low <= result <= high:
            raise self.error(
                f"must be a decimal between {low} and {high}, got {value!r}", line, f"{where}.{key}"
            )
        return result

    def boolean(self, mapping: LocatedMap, key: str, where: str, *, default: bool) -> bool:
        value = mapping.get(key, default)
        if not isinstance(value, bool):
            raise self.error(
                f"must be true or false, got {value!r}", self.line(mapping, key), f"{where}.{key}"
            )
        return value

    def names(
        self, mapping: LocatedMap, key: str, where: str, *, default: Sequence[str] = ()
    ) -> tuple[str, ...]:
        value = mapping.get(key, list(default))
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise self.error("must be a list of names", self.line(mapping, key), f"{where}.{key}")
        if len(set(value)) != len(value):
            raise self.error("names must not repeat", self.line(mapping, key), f"{where}.{key}")
        return tuple(value)

    def choice(
        self,
        mapping: LocatedMap,
        key: str,
        where: str,
        choices: Mapping[str, Any],
        default: str | None = None,
    ) -> Any:
        value = mapping.get(key, default)
        if not isinstance(value, str) or value not in choices:
            raise self.error(
                f"must be one of {', '.join(choices)}, got {value!r}",
                self.line(mapping, key),
                f"{where}.{key}",
            )
        return choices[value]


def load_policy(
    path: Path,
    *,
    feature_set: FeatureSet = STANDARD_FEATURES,
    reason_texts: ReasonDictionary | None = None,
) -> Policy:
    """Load, validate and compile the policy in ``path``; any problem names the file and line."""
    text = read_policy_text(path, bounds.policy_file_bytes_max)
    return parse_policy(text, str(path), feature_set=feature_set, reason_texts=reason_texts)


def parse_policy(
    text: str,
    source: str,
    *,
    feature_set: FeatureSet = STANDARD_FEATURES,
    reason_texts: ReasonDictionary | None = None,
) -> Policy:
    """Validate and compile policy ``text``; ``source`` names it in errors (a path, or ``<test>``)."""
    document = load_located(text, source)
    read = _Reader(source)
    read.keys(document, _SECTIONS, "")
    header = read.section(document, "policy")
    read.keys(header, ("name", "version", "description"), "policy")
    models = _models(read, read.section(document, "models"))
    eligibility = _eligibility(read, read.section(document, "eligibility"))
    products = _products(read, read.section(document, "products"))
    bands = _bands(read, document)
    pricing = _pricing(read, read.section(document, "pricing"))
    texts = reason_texts if reason_texts is not None else default_reason_texts()
    rules = _rules(read, document, feature_set, models, texts)
    return Policy(
        name=read.text(header, "name", "policy"),
        label=read.text(header, "version", "policy"),
        description=str(header.get("description", "")).strip(),
        source=source,
        digest=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        models=models,
        eligibility=eligibility,
        products=products,
        risk_bands=bands,
        pricing=pricing,
        rules=rules,
    )


def _models(read: _Reader, section: LocatedMap) -> Models:
    read.keys(section, ("champion", "inline", "challengers"), "models")
    champion = read.text(section, "champion", "models")
    inline = read.names(section, "inline", "models", default=(champion,))
    if champion not in inline:
        raise read.error(
            f"the champion {champion!r} must be scored inline", read.line(section, "inline"), "models"
        )
    challengers = read.names(section, "challengers", "models")
    both = set(inline) & set(challengers)
    if both:
        raise read.error(
            f"{sorted(both)} cannot be inline and a challenger", read.line(section, "challengers"), "models"
        )
    if len(challengers) > bounds.decision_challengers_max:
        raise read.error(
            f"at most decision_challengers_max={bounds.decision_challengers_max} challengers",
            read.line(section, "challengers"),
            "models.challengers",
        )
    return Models(champion, inline, challengers)


def _eligibility(read: _Reader, section: LocatedMap) -> Eligibility:
    where = "eligibility"
    read.keys(
        section,
        (
            "age_years_min",
            "age_years_max",
            "identity_verified_required",
            "blocklists",
            "debt_service_ratio_max",
        ),
        where,
    )
    low = read.integer(section, "age_years_min", where, 0, 150)
    high = read.integer(section, "age_years_max", where, low, 150)
    blocklists = read.names(section, "blocklists", where, default=BLOCKLIST_KINDS)
    unknown = [kind for kind in blocklists if kind not in BLOCKLIST_KINDS]
    if unknown:
        raise read.error(
            f"unknown blocklists {unknown} (known: {', '.join(BLOCKLIST_KINDS)})",
            read.line(section, "blocklists"),
            f"{where}.blocklists",
        )
    return Eligibility(
        age_years_min=low,
        age_years_max=high,
        identity_verified_required=read.boolean(section, "identity_verified_required", where, default=True),
        blocklists=blocklists,
        debt_service_ratio_max=read.decimal(section, "debt_service_ratio_max", where, Decimal(0), Decimal(5)),
    )


_PRODUCT_KEYS: Final = (
    "method",
    "day_count",
    "installments",
    "amount_min_fen",
    "amount_max_fen",
    "line_monthly_payment_share",
)


def _products(read: _Reader, section: LocatedMap) -> Mapping[ProductKind, ProductPolicy]:
    products: dict[ProductKind, ProductPolicy] = {}
    kinds = {kind.value: kind for kind in ProductKind}
    for key, raw in section.items():
        where = f"products.{key}"
        if key not in kinds:
            raise read.error(f"unknown product (known: {', '.join(kinds)})", section.key_lines[key], where)
        if not isinstance(raw, LocatedMap):
            raise read.error("must be a mapping", section.key_lines[key], where)
        read.keys(raw, _PRODUCT_KEYS, where)
        installments = raw.get("installments")
        if (
            not isinstance(installments, list)
            or not installments
            or not all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 60 for n in installments)
        ):
            raise read.error(
                "must be a list of installment counts from 1 to 60", read.line(raw, "installments"), where
            )
        low = read.integer(raw, "amount_min_fen", where, 1, bounds.exposure_amount_fen_max)
        products[kinds[key]] = ProductPolicy(
            product=kinds[key],
            method=read.choice(raw, "method", where, {m.value: m for m in RepaymentMethod}),
            day_count=read.choice(raw, "day_count", where, {d.value: d for d in DayCount}),
            installments=tuple(sorted(set(installments))),
            amount_min_fen=low,
            amount_max_fen=read.integer(raw, "amount_max_fen", where, low, bounds.exposure_amount_fen_max),
            line_monthly_payment_share=(
                read.decimal(raw, "line_monthly_payment_share", where, Decimal(0), Decimal(1))
                if "line_monthly_payment_share" in raw
                else Decimal("0.1")
            ),
        )
    if not products:
        raise read.error("at least one product is needed", section.line, "products")
    return products


def _bands(read: _Reader, document: LocatedMap) -> tuple[RiskBand, ...]:
    raw = document.get("risk_bands")
    if not isinstance(raw, list) or not raw:
        raise read.error("must be a non-empty list of bands", read.line(document, "risk_bands"), "risk_bands")
    bands: list[RiskBand] = []
    for index, item in enumerate(raw):
        where = f"risk_bands[{index}]"
        if not isinstance(item, LocatedMap):
            raise read.error("must be a mapping", read.line(document, "risk_bands"), where)
        read.keys(item, ("band", "pd_max", "annual_rate", "line_max_fen", "income_multiple"), where)
        band = RiskBand(
            band=read.text(item, "band", where),
            pd_max=read.decimal(item, "pd_max", where, Decimal(0), Decimal(1)),
            annual_rate=read.decimal(item, "annual_rate", where, Decimal(0), Decimal(1)),
            line_max_fen=read.integer(item, "line_max_fen", where, 1, bounds.exposure_amount_fen_max),
            income_multiple=read.decimal(item, "income_multiple", where, Decimal(0), Decimal(100)),
        )
        if bands and band.pd_max <= bands[-1].pd_max:
            raise read.error("pd_max must increase from band to band", read.line(item, "pd_max"), where)
        if any(band.band == earlier.band for earlier in bands):
            raise read.error(f"band {band.band!r} appears twice", read.line(item, "band"), where)
        bands.append(band)
    return tuple(bands)


def _pricing(read: _Reader, section: LocatedMap) -> Pricing:
    where = "pricing"
    read.keys(
        section,
        ("offer_validity_days", "reference_principal_fen", "rounding", "authorisation_hold_hours"),
        where,
    )
    rounding = read.text(section, "rounding", where, default="ROUND_HALF_EVEN")
    if rounding not in ROUNDING_MODES:
        raise read.error(f"must be one of {sorted(ROUNDING_MODES)}", read.line(section, "rounding"), where)
    return Pricing(
        offer_validity_days=read.integer(
            section, "offer_validity_days", where, 1, bounds.offer_validity_days_max
        ),
        reference_principal_fen=read.integer(
            section, "reference_principal_fen", where, 100, bounds.exposure_amount_fen_max, default=1_000_000
        ),
        rounding=rounding,  # type: ignore[arg-type]
        authorisation_hold_hours=read.integer(
            section, "authorisation_hold_hours", where, 1, bounds.authorisation_hold_hours_max, default=72
        ),
    )


def _rules(
    read: _Reader, document: LocatedMap, feature_set: FeatureSet, models: Models, texts: ReasonDictionary
) -> tuple[Rule, ...]:
    raw = document.get("rules")
    if not isinstance(raw, list) or not raw:
        raise read.error("must be a non-empty list of rules", read.line(document, "rules"), "rules")
    if len(raw) > bounds.policy_rules_max:
        raise read.error(
            f"more than policy_rules_max={bounds.policy_rules_max} rules",
            read.line(document, "rules"),
            "rules",
        )
    feature_names = {spec.name for spec in feature_set}
    scores = {CHAMPION_SCORE, *(f"pd_{model}" for model in models.inline)}
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        where = f"rules[{index}]"
        if not isinstance(item, LocatedMap):
            raise read.error("must be a mapping", read.line(document, "rules"), where)
        read.keys(item, _RULE_KEYS, where)
        rule_id = read.text(item, "id", where)
        where = f"rules[{index}] ({rule_id})"
        if rule_id in seen:
            raise read.error(
                f"duplicate rule id (first on line {seen[rule_id]})", read.line(item, "id"), where
            )
        seen[rule_id] = read.line(item, "id")
        stage: Stage = read.choice(item, "stage", where, {s.value: s for s in Stage})
        flow_names = read.names(item, "flows", where, default=(Flow.ONBOARDING.value,))
        flows = []
        for name in flow_names:
            if name not in Flow.__members__.values():
                raise read.error(
                    f"unknown flow {name!r} (known: onboarding, authorisation)",
                    read.line(item, "flows"),
                    where,
                )
            flows.append(Flow(name))
        if stage is Stage.CREDIT and Flow.AUTHORISATION in flows:
            raise read.error(
                "credit-stage rules read scores, which authorisation does not compute",
                read.line(item, "stage"),
                where,
            )
        outcome: Outcome = read.choice(item, "outcome", where, _OUTCOMES)
        reason = read.text(item, "reason", where)
        try:
            texts.lookup(reason)
        except InputError:
            raise read.error(
                f"reason code {reason!r} has no customer text in compliance/data/reason_texts.yaml",
                read.line(item, "reason"),
                where,
            ) from None
        expression = read.text(item, "when", where)
        line = read.line(item, "when")
        if len(expression) > bounds.policy_expression_chars_max:
            raise read.error(
                f"longer than policy_expression_chars_max={bounds.policy_expression_chars_max}", line, where
            )
        try:
            program = cel.compile(expression)
        except (ValueError, RuntimeError, TypeError) as error:
            raise read.error(f"does not compile: {_first_line(error)}", line, f"{where}.when") from None
        variables = tuple(sorted(program.variables()))
        kinds: dict[str, VariableKind] = {}
        for name in variables:
            kind = _kind_of(name, flows, stage, feature_names, scores)
            if kind is None:
                hint = " (scores are read only by credit-stage rules)" if name in scores else ""
                raise read.error(f"unknown variable {name!r}{hint}", line, f"{where}.when")
            kinds[name] = kind
        probe = {name: _PROBE_VALUES[kind] for name, kind in kinds.items()}
        try:
            result = program.execute(probe)
        except (TypeError, ValueError, RuntimeError, ZeroDivisionError, OverflowError) as error:
            raise read.error(
                f"fails on values of the right types: {_first_line(error)} "
                "(every number is a double: write 2.0, not 2, in arithmetic)",
                line,
                f"{where}.when",
            ) from None
        if not isinstance(result, bool):
            raise read.error(
                f"must be a condition (true or false), it gives {type(result).__name__}",
                line,
                f"{where}.when",
            )
        rules.append(
            Rule(
                rule_id=rule_id,
                stage=stage,
                flows=tuple(flows),
                expression=expression,
                outcome=outcome,
                reason=reason,
                priority=read.integer(item, "priority", where, 0, 1_000_000, default=0),
                if_missing=read.choice(
                    item, "if_missing", where, {"pass": "pass", "fire": "fire"}, default="pass"
                ),
                description=str(item.get("description", "")).strip(),
                line=line,
                variables=variables,
                program=program,
            )
        )
    order = {stage: position for position, stage in enumerate(STAGE_ORDER)}
    rules.sort(key=lambda rule: (order[rule.stage], -rule.priority))  # stable: file order within a priority
    return tuple(rules)


def _kind_of(
    name: str, flows: Sequence[Flow], stage: Stage, feature_names: set[str], scores: set[str]
) -> VariableKind | None:
    if name in feature_names:
        return "double"
    if name in scores:
        return "double" if stage is Stage.CREDIT else None
    kinds = {FLOW_INPUTS[flow].get(name) for flow in flows}
    if len(kinds) == 1:
        return kinds.pop()
    return None  # missing from some flow, or typed differently in two flows


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
