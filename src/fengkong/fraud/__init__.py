"""The identity graph and its dated ring memberships, scam and fake-hotline detection, the interception
log.

Built so far:

* :mod:`fengkong.fraud.graph` — the party–identifier graph (devices, phones, IPs from ``party_registered``,
  ``login``, ``loan_application``, ``order_placed`` and ``payment_made``), updated one observation at a
  time; every edge is dated by its earliest ``received_at``, so feeding events live and rebuilding from
  the lake give the same graph.
* :mod:`fengkong.fraud.rings` — rings at a date: popular identifiers dropped
  (``bounds.fraud_identifier_parties_max``), a party–party projection tied by shared devices and phones,
  seeded Leiden (CPM) through igraph, members with a single tie peeled off; ring features (size, density,
  devices, members known past due) joined for a party as of a decision time.

* :mod:`fengkong.fraud.text` — scam text normalised (NFKC, traditional → simplified, pinyin annotations and
  inserted symbols removed, look-alike digits and Chinese numerals mapped), with a map back to the source.
* :mod:`fengkong.fraud.numbers` — phone numbers (``phonenumbers``, region CN) and 95xxx / 400 / 800 service
  codes extracted and normalised, checked against each brand's official channels with effective dates
  (``data/official_channels.yaml``: fictitious brands and numbers only).
* :mod:`fengkong.fraud.scam` — the scam score: small rules behind one ``evaluate`` plus a character n-gram
  classifier trained deterministically from :mod:`fengkong.fraud.scam_corpus` (synthetic texts); a verdict
  ``scam`` / ``suspicious`` / ``clean`` with reasons and the numbers found.

* :mod:`fengkong.fraud.interceptions` — the interception log and the review-case queue as values: every
  blocked or held application, draw or transfer with its amount and reason opens a case; a reviewed case's
  outcome is a fraud label known only from its review time (SQL in ``store/fraud_cases.py``).
* :mod:`fengkong.fraud.protection` — scam-victim protection: coerced-borrowing signals (line maxed out from
  a new device, several products at once, money sent to unknown accounts) put a disbursement on a
  cooling-off hold released by a call-back through the lender's official channel.
* :mod:`fengkong.fraud.score` — the fraud score: LightGBM over behavioural and ring features, trained on
  case labels known at a date with features read as of each case's opening, plus an IsolationForest
  anomaly score; answers the ``FraudCheck`` protocol.

Velocity counts (applications, draws, logins per party, device, phone and IP over 1 h and 24 h) are
feature specs in ``features/standard.py``; the rules over them belong to the decision engine's policy.
"""
