"""Limits, holds and exposure per party and household, in SQL; behaviour-triggered changes; early warnings.

``exposure`` computes the regulatory caps; ``dynamic`` proposes line changes (raise, cut, freeze, each
with its reason and triggering feature values) from a party's features and its line's state;
``early_warning`` raises alerts from lead indicators. All pure: the SQL is in ``store/``, the review run
in ``services/``.
"""
