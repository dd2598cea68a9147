"""A small event lake written by hand for the model tests: parties, orders, bureau reports, applications,
draws and repayments, with outcomes driven by a latent risk the lake never shows.

Everything is fictitious: party IDs ``C00001``..., no phones, no addresses. :class:`LakeBuilder` collects
events per type and writes them in the lake layout (``<type>/date=YYYY-MM-DD/part-000000.parquet``, by the
Asia/Shanghai business date of receipt); :func:`simulated_lake` draws a world of ``parties`` applicants.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds

from fengkong.clock import start_of_business_day
from fengkong.sim.tables import build_table

START = date(2026, 1, 1)


def instant_us(day: int, hour: float = 10.0) -> int:
    """Microseconds since the epoch of ``hour`` o'clock (Shanghai) on business day ``day`` after START."""
    start = start_of_business_day(START + timedelta(days=day))
    return int(start.timestamp() * 1_000_000 + hour * 3_600 * 1_000_000)


class LakeBuilder:
    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.count = 0

    def add(self, event_type: str, day: int, hour: float = 10.0, **columns: Any) -> None:
        self.count += 1
        occurred = instant_us(day, hour)
        self.rows[event_type].append(
            {
                "event_id": f"ev-{self.count:08d}",
                "event_type": event_type,
                "occurred_at": occurred,
                "received_at": occurred + 1_000_000,
                "source": "test",
                "day": day,
                **columns,
            }
        )

    def write(self, lake: Path) -> Path:
        for event_type, rows in self.rows.items():
            names = [name for name in rows[0] if name != "day"]
            columns: dict[str, Any] = {}
            for name in names:
                values = [row.get(name) for row in rows]
                if name in ("occurred_at", "received_at"):
                    columns[name] = np.asarray(values, dtype=np.int64).astype("datetime64[us]")
                else:
                    columns[name] = values
            table = build_table(event_type, len(rows), columns)
            dates = [str(START + timedelta(days=row["day"])) for row in rows]
            table = table.append_column("date", pa.array(dates, type=pa.string()))
            ds.write_dataset(
                table,
                lake / event_type,
                format="parquet",
                partitioning=["date"],
                partitioning_flavor="hive",
                basename_template="part-{i:06d}.parquet".replace("{i:06d}", "{i}"),
                existing_data_behavior="overwrite_or_ignore",
            )
        return lake


def register(builder: LakeBuilder, party: str, birth_year: int, city_tier: int, income_fen: int) -> None:
    builder.add(
        "party_registered",
        0,
        1.0,
        party_id=party,
        party_kind="person",
        roles="consumer",
        birth_year=birth_year,
        city_tier=city_tier,
        declared_monthly_income_fen=income_fen,
    )


def due_days(after_day: int, until_day: int) -> list[int]:
    """Day numbers of the 8th of each month whose statement (the 1st) is at least 15 days after
    ``after_day``, up to ``until_day``."""
    out = []
    month = START.replace(day=1)
    while True:
        due = (month.replace(day=8) - START).days
        if due > until_day:
            return out
        if due - 7 - after_day >= 15:
            out.append(due)
        month = (month + timedelta(days=32)).replace(day=1)


def simulated_lake(lake: Path, parties: int, seed: int, last_day: int = 330) -> Path:
    """A world of ``parties`` consumers who each apply once; riskier ones pay more by BNPL and order at
    worse hours, thick-file ones have a bureau score, and risk decides who stops paying."""
    rng = np.random.default_rng(seed)
    builder = LakeBuilder()
    risk = rng.normal(size=parties)
    thin = rng.random(parties) < 0.4
    orders: list[tuple[str, Any, Any]] = []
    for index in range(parties):
        party = f"C{index:05d}"
        z = float(risk[index])
        register(builder, party, int(rng.integers(1965, 2005)), int(rng.integers(1, 6)), 500_000)
        if not thin[index]:
            score = int(np.clip(650 - 60 * z + rng.normal(0, 40), 300, 900))
            for day in range(1, last_day, 30):
                builder.add(
                    "bureau_report",
                    day,
                    2.0,
                    party_id=party,
                    bureau_score=score,
                    accounts_open=2,
                    delinquencies_24m=int(z > 1.2),
                    inquiries_6m=1,
                    months_on_file=36,
                    total_debt_fen=100_000,
                )
        bnpl_share = 1 / (1 + np.exp(-(-0.5 + 1.2 * z)))
        days = np.sort(rng.integers(1, last_day, size=int(rng.poisson(30))))
        orders.append((party, days, rng.random(days.size) < bnpl_share))
        applied = int(rng.integers(35, 260))
        product = "installment" if rng.random() < 0.5 else "bnpl"
        builder.add(
            "loan_application",
            applied,
            9.0,
            applicant_id=party,
            application_id=f"app-{index}",
            product=product,
            requested_amount_fen=300_000,
            term_months=12 if product == "installment" else 0,
            declared_monthly_income_fen=500_000,
        )
        if rng.random() < 0.3:
            continue  # declined, or not taken up
        account = f"{party}:{product}:1"
        builder.add(
            "draw",
            applied + 1,
            11.0,
            borrower_id=party,
            account_id=account,
            draw_id=f"d-{index}",
            amount_fen=300_000,
        )
        bad = rng.random() < 1 / (1 + np.exp(-(-2.3 + 1.3 * z)))
        for number, due in enumerate(due_days(applied + 1, last_day)):
            if bad and number >= 1:
                break  # distressed: stops paying from its second due day, never cured
            builder.add(
                "repayment",
                due,
                8.0,
                borrower_id=party,
                account_id=account,
                repayment_id=f"r-{index}-{number}",
                amount_fen=25_000,
                channel="auto_debit",
            )
    for party, days, bnpl in orders:
        for number, (day, by_bnpl) in enumerate(zip(days.tolist(), bnpl.tolist(), strict=True)):
            builder.rows["order_placed"].append(
                {
                    "event_id": f"ord-{party}-{number}",
                    "event_type": "order_placed",
                    "occurred_at": instant_us(day, 12.0),
                    "received_at": instant_us(day, 12.0) + 1_000_000,
                    "source": "test",
                    "day": day,
                    "consumer_id": party,
                    "merchant_id": "M00001",
                    "order_id": f"o-{party}-{number}",
                    "amount_fen": 2_000 + 100 * (number % 150),
                    "category": "food",
                    "pay_method": "bnpl" if by_bnpl else "wallet",
                }
            )
    return builder.write(lake)
