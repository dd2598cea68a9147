"""The standard feature set: behaviour of riders, merchants, consumers, devices, phones, IPs and enterprises.

Every feature is built from the event schema (:data:`fengkong.domain.events.EVENT_TYPES`), in the columns of
:func:`fengkong.domain.events.column_layout`: subjects in ``<role>_id``, money in ``<attr>_fen``. Money
features are integer fen; rates and shares are plain numbers in [0, 1]; times are seconds.

What the schema cannot tell: ``repayment`` events carry no due date, so the on-time share of repayments and
the worst days past due are not derivable from events; the repayment record uses the channel instead
(``auto_debit`` is a scheduled, on-time debit; ``collection`` means the borrower was chased), with counts and
sums of draws and repayments. Those two features wait for a due-date attribute or for the servicing ledger.
"""

from __future__ import annotations

from typing import Final

from fengkong.features.spec import (
    Aggregation,
    Entity,
    FeatureSet,
    FeatureSpec,
    Filter,
    FilterValue,
    Measure,
    Operator,
    Source,
    Window,
)

H1: Final = Window.rolling(hours=1)
H24: Final = Window.rolling(hours=24)
D7: Final = Window.rolling(days=7)
D30: Final = Window.rolling(days=30)
D90: Final = Window.rolling(days=90)
D180: Final = Window.rolling(days=180)
D365: Final = Window.rolling(days=365)
TODAY: Final = Window.calendar_days(1)

A = Aggregation


def src(event_type: str, entity_column: str, value_column: str | None = None, **filters: object) -> Source:
    """A source; keyword filters read ``column=value`` (equality), ``column=(op, value)`` otherwise."""
    built: list[Filter] = []
    for column, condition in filters.items():
        if isinstance(condition, tuple) and len(condition) == 2 and isinstance(condition[0], Operator):
            operator, value = condition
            built.append(Filter(column, operator, value))
        elif isinstance(condition, list):
            built.append(Filter(column, Operator.IN, tuple(condition)))
        elif isinstance(condition, str | int | bool):
            built.append(Filter(column, Operator.EQ, condition))
        else:
            raise TypeError(f"filter {column}={condition!r}")
    return Source(event_type, entity_column, value_column, tuple(built))


def simple(
    name: str,
    entity: Entity,
    aggregation: Aggregation,
    sources: Source | tuple[Source, ...],
    window: Window,
    unit: str,
    description: str,
) -> FeatureSpec:
    chosen = sources if isinstance(sources, tuple) else (sources,)
    return FeatureSpec(
        name, entity, aggregation, description, unit, measure=Measure(aggregation, chosen, window)
    )


def ratio(
    name: str,
    entity: Entity,
    numerator: Measure,
    denominator: Measure,
    description: str,
    unit: str = "share",
) -> FeatureSpec:
    return FeatureSpec(name, entity, A.RATIO, description, unit, numerator=numerator, denominator=denominator)


def growth(
    name: str,
    entity: Entity,
    aggregation: Aggregation,
    source: Source,
    short: Window,
    long: Window,
    description: str,
) -> FeatureSpec:
    return FeatureSpec(
        name,
        entity,
        A.GROWTH,
        description,
        "ratio of daily rates",
        numerator=Measure(aggregation, (source,), short),
        denominator=Measure(aggregation, (source,), long),
    )


def _delivered(column: str | None = None) -> Source:
    filters: dict[str, object] = {"status": ["on_time", "late"]}
    return src("delivery_completed", "rider_id", column, **filters)


LE: Final = Operator.LE
BAD_STARS: Final[tuple[Operator, FilterValue]] = (LE, 2)

RIDER: Final = (
    simple(
        "rider_deliveries_7d",
        Entity.RIDER,
        A.COUNT,
        _delivered(),
        D7,
        "deliveries",
        "Deliveries the rider completed (on time or late) in the last 7 days.",
    ),
    simple(
        "rider_deliveries_30d",
        Entity.RIDER,
        A.COUNT,
        _delivered(),
        D30,
        "deliveries",
        "Deliveries the rider completed (on time or late) in the last 30 days.",
    ),
    growth(
        "rider_delivery_growth_7d_30d",
        Entity.RIDER,
        A.COUNT,
        _delivered(),
        D7,
        D30,
        "Daily deliveries over the last 7 days against the last 30 (above 1: growing).",
    ),
    ratio(
        "rider_on_time_rate_30d",
        Entity.RIDER,
        Measure(A.COUNT, (src("delivery_completed", "rider_id", status="on_time"),), D30),
        Measure(A.COUNT, (_delivered(),), D30),
        "Share of the rider's completed deliveries in the last 30 days that were on time.",
    ),
    ratio(
        "rider_cancel_rate_30d",
        Entity.RIDER,
        Measure(A.COUNT, (src("delivery_completed", "rider_id", status="cancelled"),), D30),
        Measure(A.COUNT, (src("delivery_completed", "rider_id"),), D30),
        "Share of the rider's deliveries in the last 30 days that were cancelled.",
    ),
    simple(
        "rider_earnings_30d_fen",
        Entity.RIDER,
        A.SUM,
        _delivered("rider_pay_fen"),
        D30,
        "fen",
        "What the rider earned from deliveries in the last 30 days.",
    ),
    growth(
        "rider_earnings_growth_7d_30d",
        Entity.RIDER,
        A.SUM,
        _delivered("rider_pay_fen"),
        D7,
        D30,
        "Daily earnings over the last 7 days against the last 30 (above 1: growing).",
    ),
    simple(
        "rider_minutes_late_mean_30d",
        Entity.RIDER,
        A.MEAN,
        _delivered("minutes_late"),
        D30,
        "minutes",
        "Mean minutes late over the rider's completed deliveries in the last 30 days.",
    ),
    simple(
        "rider_minutes_late_max_30d",
        Entity.RIDER,
        A.MAX,
        _delivered("minutes_late"),
        D30,
        "minutes",
        "Worst lateness of the rider's completed deliveries in the last 30 days.",
    ),
    simple(
        "rider_merchants_distinct_30d",
        Entity.RIDER,
        A.DISTINCT_COUNT,
        _delivered("merchant_id"),
        D30,
        "merchants",
        "Distinct merchants the rider delivered for in the last 30 days.",
    ),
    simple(
        "rider_seconds_since_last_delivery",
        Entity.RIDER,
        A.TIME_SINCE_LAST,
        _delivered(),
        D30,
        "seconds",
        "Seconds since the rider's last completed delivery was received (within 30 days).",
    ),
    simple(
        "rider_deliveries_today",
        Entity.RIDER,
        A.COUNT,
        _delivered(),
        TODAY,
        "deliveries",
        "Deliveries the rider completed so far today (Asia/Shanghai calendar day).",
    ),
)

_REVIEWS: Final = src("review_posted", "merchant_id")
_BAD_REVIEWS: Final = src("review_posted", "merchant_id", stars=BAD_STARS)
_SETTLED: Final = src("merchant_settlement", "merchant_id", "amount_fen")
_SOLD: Final = src("order_placed", "merchant_id", "amount_fen")
_REFUNDED: Final = src("order_refunded", "merchant_id", "amount_fen")

MERCHANT: Final = (
    simple(
        "merchant_reviews_24h",
        Entity.MERCHANT,
        A.COUNT,
        _REVIEWS,
        H24,
        "reviews",
        "Reviews of the merchant in the last 24 hours.",
    ),
    ratio(
        "merchant_bad_review_share_24h",
        Entity.MERCHANT,
        Measure(A.COUNT, (_BAD_REVIEWS,), H24),
        Measure(A.COUNT, (_REVIEWS,), H24),
        "Share of the merchant's reviews in the last 24 hours with 1 or 2 stars.",
    ),
    ratio(
        "merchant_bad_review_share_7d",
        Entity.MERCHANT,
        Measure(A.COUNT, (_BAD_REVIEWS,), D7),
        Measure(A.COUNT, (_REVIEWS,), D7),
        "Share of the merchant's reviews in the last 7 days with 1 or 2 stars.",
    ),
    simple(
        "merchant_review_stars_mean_30d",
        Entity.MERCHANT,
        A.MEAN,
        src("review_posted", "merchant_id", "stars"),
        D30,
        "stars",
        "Mean star rating of the merchant's reviews in the last 30 days.",
    ),
    simple(
        "merchant_orders_7d",
        Entity.MERCHANT,
        A.COUNT,
        src("order_placed", "merchant_id"),
        D7,
        "orders",
        "Orders placed with the merchant in the last 7 days.",
    ),
    simple(
        "merchant_orders_today",
        Entity.MERCHANT,
        A.COUNT,
        src("order_placed", "merchant_id"),
        TODAY,
        "orders",
        "Orders placed with the merchant so far today (Asia/Shanghai calendar day).",
    ),
    simple(
        "merchant_order_amount_30d_fen",
        Entity.MERCHANT,
        A.SUM,
        _SOLD,
        D30,
        "fen",
        "Value of orders placed with the merchant in the last 30 days.",
    ),
    simple(
        "merchant_settled_amount_7d_fen",
        Entity.MERCHANT,
        A.SUM,
        _SETTLED,
        D7,
        "fen",
        "Net amount settled to the merchant in the last 7 days.",
    ),
    simple(
        "merchant_settled_amount_30d_fen",
        Entity.MERCHANT,
        A.SUM,
        _SETTLED,
        D30,
        "fen",
        "Net amount settled to the merchant in the last 30 days.",
    ),
    growth(
        "merchant_revenue_growth_7d_30d",
        Entity.MERCHANT,
        A.SUM,
        _SETTLED,
        D7,
        D30,
        "Daily settled revenue over the last 7 days against the last 30 (the revenue trend).",
    ),
    growth(
        "merchant_revenue_growth_30d_90d",
        Entity.MERCHANT,
        A.SUM,
        _SETTLED,
        D30,
        D90,
        "Daily settled revenue over the last 30 days against the last 90.",
    ),
    ratio(
        "merchant_refund_rate_30d",
        Entity.MERCHANT,
        Measure(A.SUM, (_REFUNDED,), D30),
        Measure(A.SUM, (_SOLD,), D30),
        "Value refunded by the merchant over value ordered from it, last 30 days.",
    ),
    simple(
        "merchant_refunds_30d",
        Entity.MERCHANT,
        A.COUNT,
        src("order_refunded", "merchant_id"),
        D30,
        "refunds",
        "Refunds the merchant made in the last 30 days.",
    ),
    simple(
        "merchant_consumers_distinct_30d",
        Entity.MERCHANT,
        A.DISTINCT_COUNT,
        src("order_placed", "merchant_id", "consumer_id"),
        D30,
        "consumers",
        "Distinct consumers who ordered from the merchant in the last 30 days.",
    ),
    ratio(
        "merchant_late_delivery_share_7d",
        Entity.MERCHANT,
        Measure(A.COUNT, (src("delivery_completed", "merchant_id", status="late"),), D7),
        Measure(A.COUNT, (src("delivery_completed", "merchant_id"),), D7),
        "Share of the merchant's deliveries in the last 7 days that arrived late.",
    ),
)

_ORDERS: Final = src("order_placed", "consumer_id")
_SPEND: Final = src("order_placed", "consumer_id", "amount_fen")
_LOGINS: Final = src("login", "party_id")
_REPAYMENTS: Final = src("repayment", "borrower_id")
_DRAWS: Final = src("draw", "borrower_id")
_BUREAU = "bureau_report"

CONSUMER: Final = (
    simple(
        "consumer_orders_7d",
        Entity.CONSUMER,
        A.COUNT,
        _ORDERS,
        D7,
        "orders",
        "Orders the consumer placed in the last 7 days.",
    ),
    simple(
        "consumer_orders_30d",
        Entity.CONSUMER,
        A.COUNT,
        _ORDERS,
        D30,
        "orders",
        "Orders the consumer placed in the last 30 days.",
    ),
    simple(
        "consumer_orders_today",
        Entity.CONSUMER,
        A.COUNT,
        _ORDERS,
        TODAY,
        "orders",
        "Orders the consumer placed so far today (Asia/Shanghai calendar day).",
    ),
    simple(
        "consumer_order_amount_30d_fen",
        Entity.CONSUMER,
        A.SUM,
        _SPEND,
        D30,
        "fen",
        "What the consumer spent on orders in the last 30 days.",
    ),
    simple(
        "consumer_order_amount_mean_30d_fen",
        Entity.CONSUMER,
        A.MEAN,
        _SPEND,
        D30,
        "fen",
        "Mean order value of the consumer in the last 30 days.",
    ),
    simple(
        "consumer_order_amount_max_30d_fen",
        Entity.CONSUMER,
        A.MAX,
        _SPEND,
        D30,
        "fen",
        "Largest order of the consumer in the last 30 days.",
    ),
    ratio(
        "consumer_order_amount_max_to_mean_30d",
        Entity.CONSUMER,
        Measure(A.MAX, (_SPEND,), D30),
        Measure(A.MEAN, (_SPEND,), D30),
        "Largest order over the mean order, last 30 days: spending stability (1 is perfectly even).",
        unit="ratio",
    ),
    growth(
        "consumer_spend_growth_7d_30d",
        Entity.CONSUMER,
        A.SUM,
        _SPEND,
        D7,
        D30,
        "Daily spending over the last 7 days against the last 30: spending stability (1 is steady).",
    ),
    simple(
        "consumer_merchants_distinct_30d",
        Entity.CONSUMER,
        A.DISTINCT_COUNT,
        src("order_placed", "consumer_id", "merchant_id"),
        D30,
        "merchants",
        "Distinct merchants the consumer ordered from in the last 30 days.",
    ),
    ratio(
        "consumer_bnpl_order_share_30d",
        Entity.CONSUMER,
        Measure(A.COUNT, (src("order_placed", "consumer_id", pay_method="bnpl"),), D30),
        Measure(A.COUNT, (_ORDERS,), D30),
        "Share of the consumer's orders in the last 30 days paid with monthly pay (BNPL).",
    ),
    simple(
        "consumer_refunds_30d",
        Entity.CONSUMER,
        A.COUNT,
        src("order_refunded", "consumer_id"),
        D30,
        "refunds",
        "Refunds the consumer received in the last 30 days.",
    ),
    simple(
        "consumer_logins_1h",
        Entity.CONSUMER,
        A.COUNT,
        _LOGINS,
        H1,
        "logins",
        "Sign-ins of the party in the last hour (login velocity).",
    ),
    simple(
        "consumer_logins_24h",
        Entity.CONSUMER,
        A.COUNT,
        _LOGINS,
        H24,
        "logins",
        "Sign-ins of the party in the last 24 hours.",
    ),
    simple(
        "consumer_login_devices_distinct_7d",
        Entity.CONSUMER,
        A.DISTINCT_COUNT,
        src("login", "party_id", "device_id"),
        D7,
        "devices",
        "Distinct devices the party signed in from in the last 7 days.",
    ),
    simple(
        "consumer_login_ips_distinct_24h",
        Entity.CONSUMER,
        A.DISTINCT_COUNT,
        src("login", "party_id", "ip"),
        H24,
        "IP addresses",
        "Distinct IP addresses the party signed in from in the last 24 hours.",
    ),
    simple(
        "consumer_loan_applications_7d",
        Entity.CONSUMER,
        A.COUNT,
        src("loan_application", "applicant_id"),
        D7,
        "applications",
        "Credit applications by the party in the last 7 days.",
    ),
    simple(
        "consumer_loan_applications_30d",
        Entity.CONSUMER,
        A.COUNT,
        src("loan_application", "applicant_id"),
        D30,
        "applications",
        "Credit applications by the party in the last 30 days.",
    ),
    simple(
        "consumer_draws_90d",
        Entity.CONSUMER,
        A.COUNT,
        _DRAWS,
        D90,
        "draws",
        "Draws on the party's credit lines in the last 90 days.",
    ),
    simple(
        "consumer_drawn_amount_90d_fen",
        Entity.CONSUMER,
        A.SUM,
        src("draw", "borrower_id", "amount_fen"),
        D90,
        "fen",
        "Amount the party drew on credit lines in the last 90 days.",
    ),
    simple(
        "consumer_repayments_90d",
        Entity.CONSUMER,
        A.COUNT,
        _REPAYMENTS,
        D90,
        "repayments",
        "Repayments by the party in the last 90 days.",
    ),
    simple(
        "consumer_repaid_amount_90d_fen",
        Entity.CONSUMER,
        A.SUM,
        src("repayment", "borrower_id", "amount_fen"),
        D90,
        "fen",
        "Amount the party repaid in the last 90 days.",
    ),
    ratio(
        "consumer_repaid_to_drawn_90d",
        Entity.CONSUMER,
        Measure(A.SUM, (src("repayment", "borrower_id", "amount_fen"),), D90),
        Measure(A.SUM, (src("draw", "borrower_id", "amount_fen"),), D90),
        "Amount repaid over amount drawn, last 90 days.",
        unit="ratio",
    ),
    ratio(
        "consumer_auto_debit_repayment_share_180d",
        Entity.CONSUMER,
        Measure(A.COUNT, (src("repayment", "borrower_id", channel="auto_debit"),), D180),
        Measure(A.COUNT, (_REPAYMENTS,), D180),
        "Share of repayments in the last 180 days made by scheduled auto-debit (on-time proxy).",
    ),
    ratio(
        "consumer_collection_repayment_share_180d",
        Entity.CONSUMER,
        Measure(A.COUNT, (src("repayment", "borrower_id", channel="collection"),), D180),
        Measure(A.COUNT, (_REPAYMENTS,), D180),
        "Share of repayments in the last 180 days that came through collection.",
    ),
    simple(
        "consumer_seconds_since_last_repayment",
        Entity.CONSUMER,
        A.TIME_SINCE_LAST,
        _REPAYMENTS,
        D365,
        "seconds",
        "Seconds since the party's last repayment was received (within 365 days).",
    ),
    simple(
        "consumer_transfer_out_amount_24h_fen",
        Entity.CONSUMER,
        A.SUM,
        src("payment_made", "payer_id", "amount_fen", purpose="transfer_out"),
        H24,
        "fen",
        "Money the party transferred out of its wallet in the last 24 hours.",
    ),
    simple(
        "consumer_transfers_to_unknown_24h",
        Entity.CONSUMER,
        A.COUNT,
        src("payment_made", "payer_id", purpose="transfer_out", counterparty_known=False),
        H24,
        "transfers",
        "Transfers out to receivers the party never paid before, last 24 hours.",
    ),
    simple(
        "consumer_bureau_score_last",
        Entity.CONSUMER,
        A.LAST,
        src(_BUREAU, "party_id", "bureau_score"),
        D365,
        "score points",
        "Bureau score in the party's latest bureau report (within 365 days); None for thin files.",
    ),
    simple(
        "consumer_bureau_score_min_365d",
        Entity.CONSUMER,
        A.MIN,
        src(_BUREAU, "party_id", "bureau_score"),
        D365,
        "score points",
        "Lowest bureau score reported on the party in the last 365 days.",
    ),
    simple(
        "consumer_bureau_delinquencies_24m_last",
        Entity.CONSUMER,
        A.LAST,
        src(_BUREAU, "party_id", "delinquencies_24m"),
        D365,
        "months",
        "Delinquent months in 24 months, from the latest bureau report (within 365 days).",
    ),
    simple(
        "consumer_bureau_inquiries_6m_last",
        Entity.CONSUMER,
        A.LAST,
        src(_BUREAU, "party_id", "inquiries_6m"),
        D365,
        "inquiries",
        "Hard inquiries in 6 months, from the latest bureau report (within 365 days).",
    ),
    simple(
        "consumer_bureau_accounts_open_last",
        Entity.CONSUMER,
        A.LAST,
        src(_BUREAU, "party_id", "accounts_open"),
        D365,
        "accounts",
        "Open credit accounts, from the latest bureau report (within 365 days).",
    ),
    simple(
        "consumer_bureau_total_debt_last_fen",
        Entity.CONSUMER,
        A.LAST,
        src(_BUREAU, "party_id", "total_debt_fen"),
        D365,
        "fen",
        "Debt outstanding at other lenders, from the latest bureau report (within 365 days).",
    ),
    simple(
        "consumer_bureau_months_on_file_last",
        Entity.CONSUMER,
        A.LAST,
        src(_BUREAU, "party_id", "months_on_file"),
        D365,
        "months",
        "Length of bureau history, from the latest bureau report (within 365 days).",
    ),
    simple(
        "consumer_seconds_since_bureau_report",
        Entity.CONSUMER,
        A.TIME_SINCE_LAST,
        src(_BUREAU, "party_id"),
        D365,
        "seconds",
        "Seconds since the latest bureau report on the party was received (within 365 days).",
    ),
)


def _accounts(attribute: str) -> tuple[Source, ...]:
    """Accounts seen with an identifier: the signed-in party and the applicant."""
    return (
        src("login", attribute, "party_id"),
        src("loan_application", attribute, "applicant_id"),
    )


IDENTITY: Final = (
    simple(
        "device_accounts_distinct_30d",
        Entity.DEVICE,
        A.DISTINCT_COUNT,
        _accounts("device_id"),
        D30,
        "accounts",
        "Distinct parties that signed in or applied for credit on the device, last 30 days.",
    ),
    simple(
        "device_accounts_distinct_24h",
        Entity.DEVICE,
        A.DISTINCT_COUNT,
        _accounts("device_id"),
        H24,
        "accounts",
        "Distinct parties that signed in or applied for credit on the device, last 24 hours.",
    ),
    simple(
        "device_applicants_distinct_30d",
        Entity.DEVICE,
        A.DISTINCT_COUNT,
        src("loan_application", "device_id", "applicant_id"),
        D30,
        "applicants",
        "Distinct credit applicants on the device in the last 30 days.",
    ),
    simple(
        "device_logins_24h",
        Entity.DEVICE,
        A.COUNT,
        src("login", "device_id"),
        H24,
        "logins",
        "Sign-ins from the device in the last 24 hours.",
    ),
    simple(
        "phone_accounts_distinct_30d",
        Entity.PHONE,
        A.DISTINCT_COUNT,
        _accounts("phone"),
        D30,
        "accounts",
        "Distinct parties that signed in or applied with the phone number, last 30 days.",
    ),
    simple(
        "phone_applicants_distinct_30d",
        Entity.PHONE,
        A.DISTINCT_COUNT,
        src("loan_application", "phone", "applicant_id"),
        D30,
        "applicants",
        "Distinct credit applicants giving the phone number in the last 30 days.",
    ),
    simple(
        "ip_accounts_distinct_24h",
        Entity.IP,
        A.DISTINCT_COUNT,
        _accounts("ip"),
        H24,
        "accounts",
        "Distinct parties that signed in or applied from the IP address, last 24 hours.",
    ),
    simple(
        "ip_applicants_distinct_7d",
        Entity.IP,
        A.DISTINCT_COUNT,
        src("loan_application", "ip", "applicant_id"),
        D7,
        "applicants",
        "Distinct credit applicants from the IP address in the last 7 days.",
    ),
    simple(
        "ip_logins_1h",
        Entity.IP,
        A.COUNT,
        src("login", "ip"),
        H1,
        "logins",
        "Sign-ins from the IP address in the last hour (velocity).",
    ),
)

_INVOICES: Final = src("trade_record", "issuer_id", "amount_fen", record_kind="invoice")

ENTERPRISE: Final = (
    simple(
        "enterprise_invoices_issued_90d",
        Entity.ENTERPRISE,
        A.COUNT,
        src("trade_record", "issuer_id", record_kind="invoice"),
        D90,
        "invoices",
        "Invoices the business issued in the last 90 days.",
    ),
    simple(
        "enterprise_invoiced_amount_90d_fen",
        Entity.ENTERPRISE,
        A.SUM,
        _INVOICES,
        D90,
        "fen",
        "Value of invoices the business issued in the last 90 days.",
    ),
    growth(
        "enterprise_invoiced_growth_30d_90d",
        Entity.ENTERPRISE,
        A.SUM,
        _INVOICES,
        D30,
        D90,
        "Daily invoiced value over the last 30 days against the last 90.",
    ),
    simple(
        "enterprise_counterparties_distinct_90d",
        Entity.ENTERPRISE,
        A.DISTINCT_COUNT,
        src("trade_record", "issuer_id", "receiver_id"),
        D90,
        "counterparties",
        "Distinct businesses the business sent trade documents to in the last 90 days.",
    ),
    simple(
        "enterprise_trade_documents_received_90d",
        Entity.ENTERPRISE,
        A.COUNT,
        src("trade_record", "receiver_id"),
        D90,
        "documents",
        "Trade documents (orders, receipts, invoices) the business received in the last 90 days.",
    ),
)


def _velocity(
    entity: Entity, prefix: str, column: str, event_type: str, noun: str, who: str
) -> tuple[FeatureSpec, ...]:
    """Counts of ``event_type`` keyed by ``column`` over the last hour and the last 24 hours."""
    return tuple(
        simple(
            f"{prefix}_{noun}_{window.label}",
            entity,
            A.COUNT,
            src(event_type, column),
            window,
            noun.replace("_", " "),
            f"{noun.replace('_', ' ').capitalize()} {who} in the last {span} (velocity).",
        )
        for window, span in ((H1, "hour"), (H24, "24 hours"))
    )


# Velocity (issue 7, fraud rules): applications, draws and logins per party, device, phone and IP over the
# last hour and the last 24 hours, where the standard set did not already count them. Draws carry no phone,
# so there is no draw count per phone.
VELOCITY: Final = (
    *_velocity(
        Entity.CONSUMER, "consumer", "applicant_id", "loan_application", "loan_applications", "by the party"
    ),
    *_velocity(Entity.CONSUMER, "consumer", "borrower_id", "draw", "draws", "on the party's credit lines"),
    simple(
        "consumer_drawn_amount_24h_fen",
        Entity.CONSUMER,
        A.SUM,
        src("draw", "borrower_id", "amount_fen"),
        H24,
        "fen",
        "Amount the party drew on credit lines in the last 24 hours (a line maxed out in a day).",
    ),
    *_velocity(
        Entity.DEVICE, "device", "device_id", "loan_application", "loan_applications", "from the device"
    ),
    *_velocity(Entity.DEVICE, "device", "device_id", "draw", "draws", "made from the device"),
    simple(
        "device_logins_1h",
        Entity.DEVICE,
        A.COUNT,
        src("login", "device_id"),
        H1,
        "logins",
        "Sign-ins from the device in the last hour (velocity).",
    ),
    *_velocity(Entity.PHONE, "phone", "phone", "loan_application", "loan_applications", "giving the phone"),
    *_velocity(Entity.PHONE, "phone", "phone", "login", "logins", "with the phone number"),
    *_velocity(Entity.IP, "ip", "ip", "loan_application", "loan_applications", "from the IP address"),
    *_velocity(Entity.IP, "ip", "ip", "draw", "draws", "made from the IP address"),
    simple(
        "ip_logins_24h",
        Entity.IP,
        A.COUNT,
        src("login", "ip"),
        H24,
        "logins",
        "Sign-ins from the IP address in the last 24 hours.",
    ),
)

STANDARD_FEATURES: Final = FeatureSet(RIDER + MERCHANT + CONSUMER + IDENTITY + ENTERPRISE + VELOCITY)
