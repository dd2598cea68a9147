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

Not yet here: velocity rules, the fraud score, scam-victim protection, scam-text and fake-hotline
detection, the interception log.
"""
