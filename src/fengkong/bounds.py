"""Every software bound of fengkong, as a named constant with its unit last.

"Limit" means a credit limit in this project; a software limit is a *bound*. When code needs a new loop,
batch, queue, timeout or window size, it gets a name here first, with a comment saying why that value.
"""

from __future__ import annotations

from typing import Final

# -- ingestion ---------------------------------------------------------------------------------------
ingest_batch_events_max: Final = 50_000  # events validated and published per batch
ingest_line_bytes_max: Final = 1_048_576  # one JSON Lines record
ingest_errors_reported_max: Final = 1_000  # bad records listed one by one; the rest are counted
event_attributes_max: Final = 64  # attributes on one event
event_subjects_max: Final = 16  # subject parties on one event
event_id_length_max: Final = 128
event_type_length_max: Final = 64
event_clock_skew_seconds_max: Final = 300  # received_at may precede occurred_at by at most this
dedup_window_events_max: Final = 10_000_000  # remembered event IDs in the in-process deduplicator
event_party_id_length_max: Final = 128  # a subject party ID
event_string_length_max: Final = 1_024  # a string, choice or decimal attribute value
event_source_length_max: Final = 64  # the producer name in ``source``

# -- transport ---------------------------------------------------------------------------------------
transport_queue_events_max: Final = 1_000_000  # in-process queue capacity
stream_partitions_count: Final = 8  # Redis Streams partitions (by entity hash)
stream_length_max: Final = 10_000_000  # approximate MAXLEN per stream partition
stream_read_batch_events_max: Final = 1_000
stream_block_ms_max: Final = 2_000
redis_connect_timeout_ms_max: Final = 2_000
stream_reclaim_idle_ms_min: Final = 60_000  # a pending message idle this long belongs to a dead consumer
stream_reclaim_rounds_max: Final = 1_000  # XAUTOCLAIM calls per partition in one reclaim

# -- lake --------------------------------------------------------------------------------------------
lake_row_group_rows_max: Final = 128_000
lake_file_rows_max: Final = 2_000_000
lake_file_sequence_max: Final = 999_999  # part-NNNNNN.parquet files per event type and date

# -- storage -----------------------------------------------------------------------------------------
database_connect_timeout_seconds_max: Final = 5
outbox_drain_batch_rows_max: Final = 500
idempotency_key_length_max: Final = 128
sqlite_busy_timeout_ms_max: Final = 5_000  # a SQLite writer waits this long for the write lock
ingested_events_insert_rows_max: Final = 1_000  # rows per INSERT (5 parameters each; SQLite allows 32,766)
outbox_attempts_max: Final = 25  # a row failing this often is no longer claimed (a dead letter to inspect)
outbox_drain_batches_max: Final = 100  # batches one drain call works through before returning
outbox_topic_length_max: Final = 128
outbox_key_length_max: Final = 256
outbox_payload_bytes_max: Final = 1_048_576  # one outbox message as JSON text
outbox_error_chars_max: Final = 2_000  # the last publish error kept on a row
party_id_length_max: Final = 128
household_parties_max: Final = 64  # parties listed for one household
tenant_id_length_max: Final = 64
endpoint_name_length_max: Final = 128
idempotency_response_bytes_max: Final = 1_048_576  # one remembered response as JSON text

# -- simulator ---------------------------------------------------------------------------------------
sim_days_max: Final = 3_650
sim_consumers_max: Final = 10_000_000
sim_chunk_parties_max: Final = 100_000  # parties simulated together in one chunk (memory bound)
sim_memory_bytes_max: Final = 4 * 1024**3  # large-scale runs stay within 4 GiB
sim_ring_size_max: Final = 6_000  # identities in one fraud ring (largest police cases: 1,000–6,000)
sim_pending_trade_documents_max: Final = 10_000_000  # trade documents scheduled for later days

# -- features ----------------------------------------------------------------------------------------
feature_window_days_max: Final = 400  # longest feature window (a year of bureau reports, with slack)
feature_name_length_max: Final = 64
feature_filters_max: Final = 8  # filters on one source of a measure
feature_sources_max: Final = 4  # event types unioned in one measure
features_per_set_max: Final = 1_000  # specs in one feature set
online_dedup_retention_days: Final = 800  # event IDs the online engine remembers (2x the longest window)
online_entities_max: Final = 10_000_000  # entity logs held by the in-process online engine
online_events_per_entity_max: Final = 1_000_000  # events retained in one entity's log
online_read_features_max: Final = 1_000  # features returned by one read
online_read_plans_max: Final = 1_024  # compiled read plans cached (one per entity and list of names)
online_redis_batch_events_max: Final = 2_000  # events applied by one Redis update script call
online_redis_events_per_key_max: Final = 200_000  # events one (source, entity) sorted set may hold
online_redis_trim_grace_days: Final = 1  # kept past the longest window: reads this far behind stay exact
online_redis_read_entities_max: Final = 64  # entities read in one round trip
offline_backfill_rows_max: Final = 50_000_000  # (entity, as_of) rows in one backfill call
parity_keys_max: Final = 1_000_000  # (entity, time) keys compared in one parity run
parity_events_max: Final = 20_000_000  # lake events one parity run loads and replays online

# -- decisions and API -------------------------------------------------------------------------------
decision_timeout_ms_max: Final = 200
decision_reasons_max: Final = 8
offer_validity_days_max: Final = 30

# -- compliance: annualised rates and caps -----------------------------------------------------------
irr_cash_flows_max: Final = 5_000  # dated flows in one IRR (a revolving line's year of daily draws fits)
irr_iterations_max: Final = 300  # bracketed Newton/bisection steps; bisection alone needs < 200 at 40 digits
irr_bracket_scan_points_count: Final = 64  # rates probed when flows change sign more than once
irr_span_days_max: Final = 36_600  # first to last cash flow (100 years)
cash_flow_amount_fen_max: Final = 10**13  # one flow (100 billion yuan): beyond is an absurd value
annualised_rate_pct_max: Final = 10_000  # a disclosed annual rate above this is an absurd input, not a price
negative_annualised_rate_pct_max: Final = 99  # rates down to -99 % a year (-100 %: nothing is repaid)
price_grid_points_max: Final = 10_000  # price points whose rates a policy computes at load
cash_flows_file_bytes_max: Final = 16 * 1024 * 1024  # a JSON file of cash flows (irr_cash_flows_max fit)

# -- lending: schedules ------------------------------------------------------------------------------
schedule_installments_max: Final = 600  # monthly installments in one schedule (50 years)

# -- ledger ------------------------------------------------------------------------------------------
ledger_posting_lines_max: Final = 64  # lines in one posting (a joint loan's split stays far below)
ledger_batch_postings_max: Final = 20_000  # postings written by one batched call
ledger_insert_rows_max: Final = 2_000  # rows per INSERT statement (SQLite allows 32,766 parameters)
ledger_description_length_max: Final = 256
ledger_account_code_length_max: Final = 64
ledger_posting_id_length_max: Final = 128
ledger_subaccount_length_max: Final = 128  # a loan or partner ID after "code:"

# -- chain: the verifiable log -----------------------------------------------------------------------
chain_append_batch_entries_max: Final = 100_000  # entries appended in one transaction (one frontier update)
chain_entry_bytes_max: Final = 65_536  # one log entry (a commitment or a signed record, never a document)
chain_log_name_length_max: Final = 128
chain_proof_hashes_max: Final = 128  # hashes in one proof: 2 x 64 levels covers any 64-bit tree
chain_proof_file_bytes_max: Final = 1_048_576  # a JSON proof document read by `fengkong chain verify`
chain_stored_ranges_per_query_max: Final = 256  # (level, range) conditions in one node-reading SELECT

# -- lending: servicing ------------------------------------------------------------------------------
loan_id_length_max: Final = 64  # leaves room in posting ids ("cob:<date>:<loan>:write-off")
repayment_id_length_max: Final = 64
loan_principal_fen_max: Final = 10**11  # one loan (1 billion yuan); keeps penalty numerators inside int64
penalty_rate_decimals_max: Final = 6  # digits of a penalty rate fraction (0.182500)
cob_chunk_loans_max: Final = 10_000  # loans closed in one transaction (two postings each fit a ledger batch)
loan_lookup_ids_per_query_max: Final = 1_000  # loan numbers in one IN (...) list
cob_days_per_call_max: Final = 3_660  # business days one catch-up call may close
chain_key_name_length_max: Final = 256  # a signed-note key name (a schema-less URL such as example.com/log)
chain_note_bytes_max: Final = 65_536  # a signed note or checkpoint read by a verifier
chain_note_signatures_max: Final = 100  # signature lines in one note (the spec asks verifiers for >= 16)

# -- scoring: scorecards and the gradient-boosted challenger -----------------------------------------
scoring_csv_bytes_max: Final = 2 * 1024**3  # a labelled CSV read for fitting, evaluation or scoring
scoring_features_max: Final = 1_000  # candidate characteristics in one model
scoring_bins_per_feature_max: Final = 20  # bins the optimal binning may make for one characteristic
scoring_categories_max: Final = 10_000  # distinct values a categorical characteristic may have
scoring_reason_codes_max: Final = 8  # reason codes returned for one applicant (decision_reasons_max)
scoring_batch_rows_max: Final = 1_000_000  # rows scored into one preallocated array
scoring_folds_max: Final = 20  # outer cross-validation folds
scoring_repeats_max: Final = 50  # repeats of the outer cross-validation
gbm_boost_rounds_max: Final = 5_000  # boosting rounds before early stopping must have stopped
scoring_model_file_bytes_max: Final = 256 * 1024**2  # a scorecard JSON or LightGBM text model read back
scoring_class_rows_min: Final = 10  # goods and bads each, per inner fold, for a fit to mean anything
scoring_reason_chunk_rows: Final = 8_192  # rows ranked together for reason codes (stays in CPU cache)

# -- fraud: the identity graph and its rings ---------------------------------------------------------
fraud_identifier_parties_max: Final = 50  # parties on one identifier before it is too popular to link them
fraud_ring_size_min: Final = 3  # members of the smallest community reported as a ring (a pair is a household)
fraud_ring_member_links_min: Final = 2  # other members a ring member is linked to (a spouse has one link)
fraud_identifier_length_max: Final = 256  # characters of one device ID, phone or IP
fraud_projected_pairs_max: Final = 100_000_000  # party pairs in one ring detection's projected graph

# -- exposure (credit_lines/, store/exposure.py) -----------------------------------------------------------
exposure_reservation_id_length_max: Final = 128
exposure_product_length_max: Final = 32
exposure_amount_fen_max: Final = 10**13  # one reservation, limit or cap (100 billion yuan)
exposure_expire_batch_rows_max: Final = 1_000  # holds expired by one expire() call

# -- fraud: scam text, official channels, interceptions and cases (fraud/, store/fraud_cases.py) -----------
scam_text_characters_max: Final = 20_000  # one text checked by `fengkong scam check` (a long article)
scam_text_file_bytes_max: Final = 256 * 1024  # a file read by `fengkong scam check --file`
scam_inserted_run_characters_max: Final = 3  # symbols or spaces inserted between two characters or digits
scam_numbers_per_text_max: Final = 50  # numbers reported for one text
scam_digit_run_digits_max: Final = 40  # digits in one run the extractor tries to split into numbers
scam_channels_file_bytes_max: Final = 1024 * 1024  # an official-channels YAML file
fraud_reason_length_max: Final = 256  # one interception or case reason code and text
fraud_case_id_length_max: Final = 128
fraud_case_batch_rows_max: Final = 1_000  # cases or interceptions read by one call
fraud_score_training_rows_max: Final = 1_000_000  # labelled rows one fraud-score fit may read
protection_hold_hours_max: Final = 72  # one cooling-off hold on a disbursement (scam-victim protection)

# -- lending: products (joint lending, merchant, green, prepayment, statements; lending/*.py) --------------
joint_lender_share_bp_min: Final = 3_000  # default floor: the lender funds >= 30 % of a joint loan
joint_partners_max: Final = 8  # partner banks on one joint loan (a split posting stays far below 64 lines)
joint_funder_id_length_max: Final = 64  # a partner bank's ID, used as a partner_payables sub-account
revenue_share_term_days_max: Final = 730  # longest revenue-based merchant loan (its daily flows fit one IRR)
statement_purchases_max: Final = 10_000  # purchases listed on one BNPL statement

# -- api: fengkong serve (api/, services/api_*.py, store/offers.py) ----------------------------------------
offer_id_length_max: Final = 128  # an offer's ID (loans.offer_id has the same width)
draw_id_length_max: Final = 64  # a draw's ID, which is also the ID of the loan it books (loan_id_length_max)
api_request_body_bytes_max: Final = 2 * 1024 * 1024  # one request body (a full events batch fits)
api_events_per_request_max: Final = 1_000  # events in one POST /v1/events
api_replicas_max: Final = 256  # FENGKONG_REPLICAS
api_offer_body_bytes_max: Final = 262_144  # one stored offer as JSON (600 installments fit)

# -- chain: trade records, receivables and the audit trail (issue 9) ---------------------------------------
trade_record_id_length_max: Final = 128  # a trade document's record ID or trade ID
trade_amount_fen_max: Final = 10**14  # one trade document or receivable (one trillion yuan)
trade_sequence_max: Final = 2**62  # an issuer's document sequence number
trade_batch_documents_max: Final = 10_000  # signed documents judged and appended in one transaction
trade_loaded_keys_max: Final = 65_536  # parties' public keys kept loaded for verification (LRU)
trade_invoice_number_length_max: Final = 64  # an e-invoice number, before normalisation
trade_tax_id_length_max: Final = 64  # a seller's or buyer's tax ID, before normalisation
receivable_split_parts_max: Final = 100  # parts one split makes
receivable_tenor_days_max: Final = 366  # days from issue to maturity (commercial bills: at most 6 months)
receivable_parts_per_receivable_max: Final = 10_000  # parts (all generations) under one receivable
receivable_export_rows_max: Final = 1_000_000  # rows in one registration export
audit_drain_batch_rows_max: Final = 5_000  # outbox rows one audit drain appends under one checkpoint
audit_verify_leaves_per_read_max: Final = 50_000  # leaves read at a time when `audit verify` recomputes a log
supplier_history_records_max: Final = 1_000_000  # trade documents read for one supplier-credit summary
supplier_history_window_days_max: Final = 730  # look-back of one supplier-credit summary

# -- models on the simulated world (services/model_dataset.py, scoring/, monitoring/) --------------------
model_dataset_applications_max: Final = 2_000_000  # applications in one training table from a lake
model_bad_window_days_max: Final = 366  # the outcome window of the bad definition (DOMAIN.md: 180)
reject_inference_rows_max: Final = 5_000_000  # booked plus unbooked rows one augmentation may produce
report_chart_points_max: Final = 2_000  # points drawn in one inline SVG chart (curves are thinned to it)
fairness_groups_max: Final = 100  # groups of one protected attribute in a fairness report

# -- decisions: the policy language, flows, traces (decisions/) --------------------------------------------
policy_file_bytes_max: Final = 1_048_576  # one policy YAML file
policy_rules_max: Final = 2_000  # rules in one policy (Ant's engine runs 1,000+ strategies per decision)
policy_expression_chars_max: Final = 2_000  # one rule's CEL expression
decision_challengers_max: Final = 4  # challenger models scored in shadow per decision
decision_shadow_queue_max: Final = 10_000  # decisions waiting for shadow scoring; more are dropped, counted
decision_shadow_join_seconds_max: Final = 30  # closing the shadow worker waits this long for the queue
decision_id_length_max: Final = 128
trace_lake_batch_traces_max: Final = 10_000  # traces written to one Parquet part file
trace_body_bytes_max: Final = 1_048_576  # one decision trace as JSON text

# -- features: the offline engine on Spark (features/offline_spark.py) ---------------------------------------
spark_local_cores_max: Final = 256  # worker threads of a local-mode session (local[N])
spark_shuffle_partitions_max: Final = 100_000  # spark.sql.shuffle.partitions of a session fengkong starts

# -- personal data, told reasons and reviews, bureau files (compliance/privacy.py, reporting/) ------------
privacy_value_chars_max: Final = 256  # one personal value (a name) before sealing
privacy_retention_days_max: Final = 36_500  # a retention period in a schedule (100 years)
privacy_rotation_batch_rows_max: Final = 1_000  # rows re-encrypted in one transaction of the rotation job
privacy_purge_batch_rows_max: Final = 10_000  # values purged by one purge call
privacy_consent_id_length_max: Final = 128
privacy_partner_id_length_max: Final = 128
review_case_id_length_max: Final = 128
review_statement_chars_max: Final = 2_000  # the borrower's own words when asking for a human review
bureau_history_months_count: Final = 60  # status codes per account in the PBOC-shaped file (5 years)
bureau_metro2_history_months_count: Final = 24  # characters of the Metro 2 payment history profile
bureau_notice_id_length_max: Final = 128
bureau_accounts_per_file_max: Final = 5_000_000  # accounts in one monthly file
customer_question_chars_max: Final = 2_000  # one customer-service question
authorisation_hold_hours_max: Final = 24 * 30  # a purchase's hold expires within a month at the latest

# -- credit lines: dynamic line changes and early warnings (credit_lines/dynamic.py, early_warning.py) -------
credit_line_rule_version_length_max: Final = 64  # the rule version a line change names
credit_line_reason_length_max: Final = 64  # a reason code of a line change or an alert
credit_line_triggers_max: Final = 16  # feature values carried by one line change or alert
credit_line_step_permille_max: Final = 1_000  # a raise adds at most the whole line; a cut keeps at most all
credit_line_cooldown_days_max: Final = 365  # days between two raises of one line
credit_line_history_days_min: Final = 1  # a line is at least a day old before a raise can be considered
credit_line_history_days_max: Final = 3_650  # minimum history a rule may ask for (ten years)
credit_line_review_batch_rows_max: Final = 10_000  # lines reviewed in one transaction of a review run
credit_line_history_rows_max: Final = 1_000  # changes returned by one history read
credit_line_alert_batch_rows_max: Final = 1_000  # alerts returned by one queue read
credit_line_alert_id_length_max: Final = 128
credit_line_change_id_length_max: Final = 128
