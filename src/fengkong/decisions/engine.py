"""The decision engine: one policy, its compiled rules and price grid, and the injected ports, built once.

::

    engine = DecisionEngine.from_policy_file(
        path, reader=online_features, models={"scorecard": ScorecardScorer(...), "gbm": GBMScorer(...)},
        exposure=exposure_port, clock=clock,
    )
    decided = engine.decide_application(application)      # Decided(decision, trace)
    decided = engine.authorise(request)
    again = engine.replay(decided.trace)                     # the same outcome, reasons, offer and rules

Everything is injected (feature reader, scorers, fraud check, blocklist, exposure port, clock); the engine
imports no store. Models are checked against the policy's ``models`` section: every inline model and every
challenger named there must be given, and nothing else. The features read per decision are the ones the
flow's rules read plus every model's input names (``names`` on the scorer), grouped by entity.

Replay. :meth:`DecisionEngine.replay` decides again from a stored :class:`~fengkong.decisions.trace.Trace`:
the trace's feature snapshot is served by a :class:`SnapshotReader`, the clock is the trace's decision time,
the fraud answer and (for authorisations) the line and the hold result are the stored ones, and the models
run again on the snapshot. It refuses a trace decided under another policy version or model version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from fengkong.clock import Clock, SystemClock
from fengkong.compliance.caps import CapPolicy, default_cap_policy
from fengkong.decisions.authorisation import AuthorisationContext, AuthorisationRequest, authorise
from fengkong.decisions.evaluation import FeaturePlan, FraudOutcome
from fengkong.decisions.onboarding import (
    Application,
    Decided,
    OnboardingContext,
    build_price_grid,
    decide_application,
)
from fengkong.decisions.policy import Flow, Policy, load_policy
from fengkong.decisions.ports import (
    Blocklist,
    ExposurePort,
    HoldPlaced,
    HoldRefused,
    HoldRequest,
    LineExposure,
)
from fengkong.decisions.shadow import ShadowScoring, ShadowSink
from fengkong.decisions.trace import Trace
from fengkong.domain.features import FeatureReader, FeatureVector
from fengkong.domain.protocols import FraudCheck, Scorer
from fengkong.errors import ConflictError, InputError
from fengkong.features.spec import FeatureSet
from fengkong.features.standard import STANDARD_FEATURES


class SnapshotReader:
    """A :class:`~fengkong.domain.FeatureReader` serving a stored snapshot (a trace's ``features``); names the
    snapshot lacks come from ``fallback`` when one is given, else are refused."""

    def __init__(
        self, values: Mapping[str, float | int | None], version: str, *, fallback: FeatureReader | None = None
    ) -> None:
        self.values = dict(values)
        self.version = version
        self.fallback = fallback

    def read(
        self, entity_type: str, entity_id: str, as_of: datetime, names: Sequence[str] | None = None
    ) -> FeatureVector:
        chosen = list(self.values) if names is None else list(names)
        found = {name: self.values[name] for name in chosen if name in self.values}
        missing = [name for name in chosen if name not in self.values]
        if missing and self.fallback is None:
            raise InputError(f"the snapshot has no {missing}", field="features")
        if missing and self.fallback is not None:
            found.update(self.fallback.read(entity_type, entity_id, as_of, missing).values)
        return FeatureVector(entity_type, entity_id, as_of, {n: found[n] for n in chosen}, self.version)


class _ReplayedExposure:
    """The line and the hold result as a trace recorded them; a replay places no hold."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace

    def line(self, party_id: str, product: str, hold_id: str) -> LineExposure | None:
        return None if self.trace.line is None else LineExposure(*self.trace.line)

    def hold(self, request: HoldRequest) -> HoldPlaced | HoldRefused:
        stored = self.trace.hold
        if stored is None:
            raise ConflictError("the replay approves where the trace placed no hold")
        if stored.placed:
            return HoldPlaced(stored.hold_id, stored.amount_fen, stored.expires_at or request.expires_at)
        return HoldRefused(stored.hold_id, stored.refused_cap or "party_limit", stored.available_fen or 0)


class _NoExposure:
    def line(self, party_id: str, product: str, hold_id: str) -> LineExposure | None:
        return None

    def hold(self, request: HoldRequest) -> HoldPlaced | HoldRefused:
        return HoldRefused(request.hold_id, "party_limit", 0)


class DecisionEngine:
    """One loaded policy with its ports; decides applications and authorisations and replays traces."""

    def __init__(
        self,
        policy: Policy,
        *,
        reader: FeatureReader,
        models: Mapping[str, Scorer],
        challengers: Mapping[str, Scorer] | None = None,
        shadow_sink: ShadowSink | None = None,
        exposure: ExposurePort | None = None,
        fraud_check: FraudCheck | None = None,
        blocklist: Blocklist | None = None,
        clock: Clock | None = None,
        feature_set: FeatureSet = STANDARD_FEATURES,
        caps: CapPolicy | None = None,
    ) -> None:
        wanted = set(policy.models.inline)
        if set(models) != wanted:
            raise InputError(
                f"the policy scores {sorted(wanted)} inline; given {sorted(models)}", field="models"
            )
        given_challengers = dict(challengers or {})
        if set(given_challengers) != set(policy.models.challengers):
            raise InputError(
                f"the policy names challengers {sorted(policy.models.challengers)}; "
                f"given {sorted(given_challengers)}",
                field="challengers",
            )
        self.policy = policy
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.feature_set = feature_set
        self.models = dict(models)
        self.shadow: ShadowScoring | None = None
        if given_challengers:
            self.shadow = ShadowScoring(
                given_challengers, shadow_sink if shadow_sink is not None else _discard
            )
        model_names = [
            name
            for scorer in (*self.models.values(), *given_challengers.values())
            for name in getattr(scorer, "names", ())
        ]
        known = {spec.name for spec in feature_set}
        fraud_names = [name for name in getattr(fraud_check, "feature_names", ()) if name in known]
        onboarding_plan = FeaturePlan.of(
            feature_set, [*policy.feature_variables(Flow.ONBOARDING), *model_names, *fraud_names]
        )
        authorisation_plan = FeaturePlan.of(
            feature_set, [*policy.feature_variables(Flow.AUTHORISATION), *fraud_names]
        )
        self.onboarding = OnboardingContext(
            policy=policy,
            reader=reader,
            plan=onboarding_plan,
            feature_set_version=feature_set.version,
            models=self.models,
            model_versions={
                name: str(getattr(scorer, "version", name)) for name, scorer in self.models.items()
            },
            fraud_check=fraud_check,
            blocklist=blocklist,
            grid=build_price_grid(policy),
            caps=caps if caps is not None else default_cap_policy(),
            shadow=self.shadow,
        )
        self.authorisation = AuthorisationContext(
            policy=policy,
            reader=reader,
            plan=authorisation_plan,
            feature_set_version=feature_set.version,
            exposure=exposure if exposure is not None else _NoExposure(),
            fraud_check=fraud_check,
            blocklist=blocklist,
            hold_hours=policy.pricing.authorisation_hold_hours,
        )

    @classmethod
    def from_policy_file(cls, path: Path, **ports: object) -> DecisionEngine:
        """Load and compile the policy in ``path`` and build the engine with ``ports`` (see ``__init__``)."""
        feature_set = ports.get("feature_set", STANDARD_FEATURES)
        if not isinstance(feature_set, FeatureSet):
            raise InputError("must be a FeatureSet", field="feature_set")
        return cls(load_policy(path, feature_set=feature_set), **ports)  # type: ignore[arg-type]

    @property
    def version(self) -> str:
        return self.policy.version

    def decide_application(self, application: Application, decision_id: str | None = None) -> Decided:
        chosen = decision_id if decision_id is not None else f"onb-{application.application_id}"
        return decide_application(self.onboarding, application, chosen, self.clock.now())

    def authorise(
        self,
        request: AuthorisationRequest,
        decision_id: str | None = None,
        *,
        exposure: ExposurePort | None = None,
    ) -> Decided:
        """Authorise ``request``; ``exposure`` replaces the engine's port for this call (a use case passes one
        bound to its own transaction, so the hold commits or rolls back with the decision's records)."""
        chosen = decision_id if decision_id is not None else f"auth-{request.authorisation_id}"
        context = self.authorisation if exposure is None else replace(self.authorisation, exposure=exposure)
        return authorise(context, request, chosen, self.clock.now())

    def replay(self, trace: Trace) -> Decided:
        """Decide again from ``trace`` (see the module docstring); the result's trace equals the stored one
        when nothing that decides has changed."""
        if trace.version("policy") != self.policy.version:
            raise ConflictError(
                f"the trace was decided under policy {trace.version('policy')}, "
                f"this engine holds {self.policy.version}"
            )
        for name, scorer in self.models.items():
            stored = trace.version(f"model:{name}")
            current = str(getattr(scorer, "version", name))
            if stored is not None and stored != current:
                raise ConflictError(f"the trace was scored by {name} {stored}, this engine holds {current}")
        return self.redecide(trace)

    def redecide(self, trace: Trace, *, reader: FeatureReader | None = None) -> Decided:
        """Decide ``trace``'s request again under *this* engine's policy and models (a backtest), from the
        trace's snapshot; features the snapshot lacks come from ``reader`` (read as of the trace's
        ``as_of``), or are refused naming them."""
        version = trace.version("features") or self.feature_set.version
        snapshot = SnapshotReader(trace.features, version, fallback=reader)
        fraud = FraudOutcome.from_inputs(trace.inputs)
        if trace.flow == Flow.ONBOARDING.value:
            context = replace(self.onboarding, reader=snapshot, shadow=None, fraud_check=None)
            return decide_application(
                context,
                Application.from_inputs(trace.inputs),
                trace.decision_id,
                trace.decided_at,
                fraud=fraud,
            )
        if trace.flow == Flow.AUTHORISATION.value:
            auth_context = replace(
                self.authorisation, reader=snapshot, exposure=_ReplayedExposure(trace), fraud_check=None
            )
            return authorise(
                auth_context,
                AuthorisationRequest.from_inputs(trace.inputs),
                trace.decision_id,
                trace.decided_at,
                fraud=fraud,
            )
        raise InputError(f"unknown flow {trace.flow!r}", field="flow")

    def close(self) -> None:
        """Finish the shadow queue (challenger scores still waiting are scored first)."""
        if self.shadow is not None:
            self.shadow.close()


def _discard(score: object) -> None:
    del score
