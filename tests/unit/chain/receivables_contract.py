"""What trade records and receivables must do on any database.

:class:`ReceivablesContract` holds the tests; a module supplies ``engine`` (a migrated database):
``test_receivables_sqlite.py`` here, ``tests/integration/test_trade_postgres.py`` on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from fengkong.chain import merkle
from fengkong.chain.receivables import Refusal, RefusalReason
from fengkong.chain.trade import RejectionReason, commitment_entry, opens
from fengkong.domain.trade import TradeRecordKind
from fengkong.services import receivables as receivable_service
from fengkong.services import trade as trade_service
from fengkong.services.audit import verify_database
from fengkong.services.trade import TRADE_LOG, TradeStores
from fengkong.store import tables_trade
from fengkong.store.receivables import ReceivableRow
from tests.unit.chain import trade_fixtures as fx

AMOUNT = 10_000_001  # 100,000.01 yuan: odd, so an even split cannot hide rounding


class ReceivablesContract:
    @pytest.fixture
    def repositories(self, engine: sa.Engine) -> TradeStores:
        repositories = fx.stores()
        fx.set_up_parties(engine, repositories)
        return repositories

    def _issue(
        self, engine: sa.Engine, repositories: TradeStores, **overrides: object
    ) -> ReceivableRow | Refusal:
        arguments: dict[str, object] = {
            "receivable_id": "R-1",
            "invoice_record_id": "INV-1",
            "invoice_number": fx.INVOICE_NUMBER,
            "seller_tax_id": fx.SELLER_TAX_ID,
            "buyer_tax_id": fx.BUYER_TAX_ID,
            "amount": AMOUNT,
            "issued_on": fx.DAY,
            "on": fx.DAY,
        }
        arguments.update(overrides)
        with engine.begin() as connection:
            return receivable_service.issue_receivable(connection, repositories, **arguments)  # type: ignore[arg-type]

    def _confirmed(self, engine: sa.Engine, repositories: TradeStores) -> None:
        fx.record_full_trade(engine, repositories, AMOUNT)
        assert isinstance(self._issue(engine, repositories), ReceivableRow)
        with engine.begin() as connection:
            confirmed = receivable_service.confirm_receivable(
                connection, repositories, "R-1", fx.CORE, fx.DAY
            )
        assert isinstance(confirmed, ReceivableRow) and confirmed.status == "confirmed"
        fx.checkpoint(engine, repositories)

    def test_records_are_committed_not_disclosed_and_open_to_their_salt(
        self, engine: sa.Engine, repositories: TradeStores
    ) -> None:
        fx.record_full_trade(engine, repositories, AMOUNT)
        with engine.connect() as connection:
            row = repositories.trade.record(connection, "INV-1")
            assert row is not None
            entries = repositories.chain.entries(connection, TRADE_LOG, row.leaf_index, row.leaf_index + 1)
        entry = entries[0][1]
        assert opens(entry, row.salt, row.canonical)
        assert entry == commitment_entry(row.commitment)
        assert fx.SUPPLIER.encode() not in entry and str(AMOUNT).encode() not in entry
        assert not opens(entry, bytes(32), row.canonical)  # another salt does not open it

    def test_forged_altered_replayed_and_out_of_order_records_are_refused_and_nothing_is_written(
        self, engine: sa.Engine, repositories: TradeStores
    ) -> None:
        fx.record_full_trade(engine, repositories, AMOUNT)
        good = fx.signed(fx.record("PO-2", TradeRecordKind.PURCHASE_ORDER, 500, trade_id="T-2"), 3)
        altered = replace(good, canonical=good.canonical.replace(b'"amount_fen":500', b'"amount_fen":900'))
        altered_document = replace(
            good,
            document=replace(
                good.document, record=replace(good.document.record, amount=good.document.record.amount * 2)
            ),
        )
        altered_document = replace(altered_document, canonical=altered_document.document.canonical_bytes())
        stranger = fx.signer("X-STRANGER")  # never registered
        forged = fx.signed(fx.record("PO-3", TradeRecordKind.PURCHASE_ORDER, 700, trade_id="T-3"), 3)
        forged = replace(forged, receiver_key_id=stranger.public().key_id)
        skipped = fx.signed(fx.record("PO-4", TradeRecordKind.PURCHASE_ORDER, 700, trade_id="T-4"), 9)
        with engine.begin() as connection:
            size_before = repositories.chain.head(connection, TRADE_LOG).tree_size
            result = trade_service.record_documents(
                connection, repositories, [altered, altered_document, forged, skipped], atomic=False
            )
        reasons = [rejection.reason for rejection in result.rejected]
        assert reasons == [
            RejectionReason.MALFORMED,
            RejectionReason.BAD_ISSUER_SIGNATURE,
            RejectionReason.UNKNOWN_KEY,
            RejectionReason.OUT_OF_ORDER,
        ]
        assert result.accepted == ()
        with engine.begin() as connection:
            accepted = trade_service.record_documents(connection, repositories, [good], atomic=True)
        assert accepted.accepted == ("PO-2",)
        with engine.begin() as connection:
            replayed = trade_service.record_documents(connection, repositories, [good], atomic=True)
        assert [rejection.reason for rejection in replayed.rejected] == [RejectionReason.REPLAY]
        with engine.connect() as connection:
            assert repositories.chain.head(connection, TRADE_LOG).tree_size == size_before + 1
            stored = connection.execute(
                sa.select(sa.func.count()).select_from(tables_trade.trade_records)
            ).scalar()
            assert stored == 4

    def test_an_atomic_batch_with_one_bad_document_writes_nothing(
        self, engine: sa.Engine, repositories: TradeStores
    ) -> None:
        good = fx.signed(fx.record("PO-1", TradeRecordKind.PURCHASE_ORDER, 500), 1)
        bad = fx.signed(fx.record("PO-2", TradeRecordKind.PURCHASE_ORDER, 500), 2)
        bad = replace(bad, issuer_signature=bytes(64))
        with engine.begin() as connection:
            result = trade_service.record_documents(connection, repositories, [good, bad], atomic=True)
        assert result.accepted == () and result.rejected[0].reason is RejectionReason.BAD_ISSUER_SIGNATURE
        with engine.connect() as connection:
            assert repositories.chain.head(connection, TRADE_LOG).tree_size == 0
            assert repositories.trade.record(connection, "PO-1") is None

    def test_the_whole_life_issue_confirm_split_transfer_finance_settle(
        self, engine: sa.Engine, repositories: TradeStores
    ) -> None:
        self._confirmed(engine, repositories)
        key = fx.log_signer().verifier()
        with engine.begin() as connection:
            parts = receivable_service.split_part(
                connection, repositories, "R-1/0", fx.SUPPLIER, [6_000_000, 4_000_001], fx.DAY
            )
        assert not isinstance(parts, Refusal)
        assert sum(part.amount_fen for part in parts) == AMOUNT
        with engine.begin() as connection:
            stolen = receivable_service.transfer_part(
                connection, repositories, "R-1/0.1", fx.TIER2, fx.LENDER, fx.DAY
            )
            moved = receivable_service.transfer_part(
                connection, repositories, "R-1/0.1", fx.SUPPLIER, fx.TIER2, fx.DAY
            )
            split_again = receivable_service.split_part(
                connection, repositories, "R-1/0", fx.SUPPLIER, [1, AMOUNT - 1], fx.DAY
            )
        assert isinstance(stolen, Refusal) and stolen.reason is RefusalReason.NOT_THE_HOLDER
        assert not isinstance(moved, Refusal) and moved.holder_party_id == fx.TIER2
        assert isinstance(split_again, Refusal) and split_again.reason is RefusalReason.NOT_ACTIVE
        fx.checkpoint(engine, repositories)
        on = fx.DAY + timedelta(days=10)
        with engine.begin() as connection:
            financed = receivable_service.finance_part(
                connection,
                repositories,
                "R-1/0.1",
                holder_party_id=fx.TIER2,
                lender_party_id=fx.LENDER,
                rate_annual=Decimal("0.036"),
                on=on,
                log_key=key,
                rounding="ROUND_HALF_UP",
            )
        assert isinstance(financed, receivable_service.Financing)
        # 4,000,001 fen x 3.6 % x 50 / 360 = 20,000.005 fen of discount, rounded half up to 20,000
        assert financed.advance_fen == 4_000_001 - 20_000
        with engine.begin() as connection:
            again = receivable_service.finance_part(
                connection,
                repositories,
                "R-1/0.1",
                holder_party_id=fx.LENDER,
                lender_party_id="L00002",
                rate_annual=Decimal("0.03"),
                on=on,
                log_key=key,
                rounding="ROUND_HALF_UP",
            )
            early = receivable_service.settle_receivable(connection, repositories, "R-1", fx.CORE, on)
        assert isinstance(again, Refusal) and again.reason is RefusalReason.ALREADY_FINANCED
        assert isinstance(early, Refusal) and early.reason is RefusalReason.NOT_MATURED
        with engine.begin() as connection:
            settled = receivable_service.settle_receivable(connection, repositories, "R-1", fx.CORE, fx.DUE)
        assert isinstance(settled, receivable_service.Settlement)
        assert dict(settled.payees) == {fx.SUPPLIER: 6_000_000, fx.LENDER: 4_000_001}
        assert sum(amount for _, amount in settled.payees) == AMOUNT
        with engine.connect() as connection:
            kinds = [row.kind for row in repositories.receivables.events(connection)]
            head = repositories.chain.head(connection, TRADE_LOG)
            for row in repositories.receivables.events(connection):
                proof = trade_service_proof(connection, repositories, row.leaf_index, head.tree_size)
                assert merkle.verify_inclusion(
                    row.leaf_index,
                    head.tree_size,
                    merkle.leaf_hash(commitment_entry(row.commitment)),
                    proof,
                    head.root_hash,
                ).verified
        assert kinds == ["issue", "confirm", "split", "transfer", "finance", "settle"]

    def test_the_same_invoice_in_other_words_is_refused_by_the_database(
        self, engine: sa.Engine, repositories: TradeStores
    ) -> None:
        fx.record_full_trade(engine, repositories, AMOUNT)
        # a second signed invoice for the same trade (a double presentation), then the same e-invoice reworded
        with engine.begin() as connection:
            copy = fx.signed(fx.record("INV-1-COPY", TradeRecordKind.INVOICE, AMOUNT), 2)
            assert trade_service.record_documents(connection, repositories, [copy]).accepted == (
                "INV-1-COPY",
            )
        assert isinstance(self._issue(engine, repositories), ReceivableRow)
        reworded = self._issue(
            engine,
            repositories,
            receivable_id="R-2",
            invoice_record_id="INV-1-COPY",
            invoice_number=" " + " ".join(full_width(fx.INVOICE_NUMBER)[i : i + 4] for i in range(0, 20, 4)),
            seller_tax_id="91000000-0000-000001".lower(),
            buyer_tax_id=full_width(fx.BUYER_TAX_ID),
            amount="１００,０００.０１",
            issued_on="2026年3月2日",
        )
        assert isinstance(reworded, Refusal) and reworded.reason is RefusalReason.DUPLICATE_INVOICE
        assert "R-1" in reworded.message
        with engine.connect() as connection:
            assert repositories.receivables.receivable(connection, "R-2", lock=False) is None

    def test_the_database_itself_refuses_a_second_financing_and_a_duplicate_identity(
        self, engine: sa.Engine, repositories: TradeStores
    ) -> None:
        self._confirmed(engine, repositories)
        with engine.begin() as connection:
            financed = receivable_service.finance_part(
                connection,
                repositories,
                "R-1/0",
                holder_party_id=fx.SUPPLIER,
                lender_party_id=fx.LENDER,
                rate_annual=Decimal("0.04"),
                on=fx.DAY,
                log_key=fx.log_signer().verifier(),
                rounding="ROUND_HALF_UP",
            )
        assert isinstance(financed, receivable_service.Financing)
        with engine.connect() as connection:
            row = dict(connection.execute(sa.select(tables_trade.receivable_financings)).mappings().one())
            receivable = dict(connection.execute(sa.select(tables_trade.receivables)).mappings().one())
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                sa.insert(tables_trade.receivable_financings).values(**{**row, "lender_party_id": "L9"})
            )
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                sa.insert(tables_trade.receivables).values(
                    **{**receivable, "receivable_id": "R-9", "invoice_record_id": "PO-1"}
                )
            )
        with pytest.raises(DBAPIError), engine.begin() as connection:
            connection.execute(sa.update(tables_trade.trade_records).values(amount_fen=1))

    def test_a_forged_invoice_without_purchase_order_or_receipt_is_not_confirmed(
        self, engine: sa.Engine, repositories: TradeStores
    ) -> None:
        invoice = fx.signed(fx.record("INV-9", TradeRecordKind.INVOICE, 777, trade_id="T-9"), 1)
        with engine.begin() as connection:
            trade_service.record_documents(connection, repositories, [invoice], atomic=True)
        issued = self._issue(
            engine,
            repositories,
            receivable_id="R-9",
            invoice_record_id="INV-9",
            invoice_number="1",
            amount=777,
        )
        assert isinstance(issued, ReceivableRow)
        with engine.begin() as connection:
            by_supplier = receivable_service.confirm_receivable(
                connection, repositories, "R-9", fx.SUPPLIER, fx.DAY
            )
            refused = receivable_service.confirm_receivable(connection, repositories, "R-9", fx.CORE, fx.DAY)
            financed = receivable_service.finance_part(
                connection,
                repositories,
                "R-9/0",
                holder_party_id=fx.SUPPLIER,
                lender_party_id=fx.LENDER,
                rate_annual=Decimal("0.04"),
                on=fx.DAY,
                log_key=fx.log_signer().verifier(),
                rounding="ROUND_HALF_UP",
            )
        assert isinstance(by_supplier, Refusal) and by_supplier.reason is RefusalReason.NOT_THE_DEBTOR
        assert isinstance(refused, Refusal) and refused.reason is RefusalReason.NO_TRADE
        assert isinstance(financed, Refusal) and financed.reason is RefusalReason.NOT_CONFIRMED

    def test_financing_needs_a_checkpoint_signed_by_the_log_key(
        self, engine: sa.Engine, repositories: TradeStores
    ) -> None:
        self._confirmed(engine, repositories)
        other_key = fx.signer("X").public()  # not the log's key
        from fengkong.chain.note import SignerKey

        impostor = SignerKey.from_seed(fx.TRADE_ORIGIN, bytes(32)).verifier()
        with engine.begin() as connection:
            refused = receivable_service.finance_part(
                connection,
                repositories,
                "R-1/0",
                holder_party_id=fx.SUPPLIER,
                lender_party_id=fx.LENDER,
                rate_annual=Decimal("0.04"),
                on=fx.DAY,
                log_key=impostor,
                rounding="ROUND_HALF_UP",
            )
        assert other_key.party_id == "X"
        assert isinstance(refused, Refusal) and refused.reason is RefusalReason.PROOF_REJECTED

    def test_batched_appends_write_once_at_the_end_and_nothing_when_the_block_fails(
        self, engine: sa.Engine, repositories: TradeStores
    ) -> None:
        fx.record_full_trade(engine, repositories, AMOUNT)
        with engine.connect() as connection:
            heads_before = len(repositories.chain.heads(connection, TRADE_LOG))
            size_before = repositories.chain.head(connection, TRADE_LOG).tree_size

        def dies_half_way() -> None:
            with engine.begin() as connection, trade_service.batched_appends(connection, repositories):
                assert isinstance(self._issue_on(connection, repositories), ReceivableRow)
                raise RuntimeError("the process died")

        with pytest.raises(RuntimeError):
            dies_half_way()
        with engine.begin() as connection, trade_service.batched_appends(connection, repositories):
            assert isinstance(self._issue_on(connection, repositories), ReceivableRow)
            confirmed = receivable_service.confirm_receivable(
                connection, repositories, "R-1", fx.CORE, fx.DAY
            )
            assert isinstance(confirmed, ReceivableRow)
            assert trade_service.log_size(connection, repositories, TRADE_LOG) == size_before + 2
        with engine.connect() as connection:
            assert repositories.chain.head(connection, TRADE_LOG).tree_size == size_before + 2
            assert len(repositories.chain.heads(connection, TRADE_LOG)) == heads_before + 1  # one append
            events = repositories.receivables.events(connection)
        assert [(row.kind, row.leaf_index) for row in events] == [
            ("issue", size_before),
            ("confirm", size_before + 1),
        ]
        assert verify_database(engine, repositories).intact

    def _issue_on(self, connection: sa.Connection, repositories: TradeStores) -> ReceivableRow | Refusal:
        return receivable_service.issue_receivable(
            connection,
            repositories,
            receivable_id="R-1",
            invoice_record_id="INV-1",
            invoice_number=fx.INVOICE_NUMBER,
            seller_tax_id=fx.SELLER_TAX_ID,
            buyer_tax_id=fx.BUYER_TAX_ID,
            amount=AMOUNT,
            issued_on=fx.DAY,
            on=fx.DAY,
        )


def full_width(text: str) -> str:
    """ASCII letters and digits as their full-width forms (U+FF10...), as a hand-typed form may hold."""
    return text.translate({code: code + 0xFEE0 for code in range(0x21, 0x7F)})


def trade_service_proof(
    connection: sa.Connection, repositories: TradeStores, leaf: int, size: int
) -> tuple[bytes, ...]:
    from fengkong.services import chain as chain_service

    return chain_service.prove_inclusion(connection, repositories.chain, TRADE_LOG, leaf, size).proof
