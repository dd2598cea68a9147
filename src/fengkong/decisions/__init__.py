"""The policy language, authorisation and onboarding flows, pricing, outcomes, traces, backtests,
governance.
"""
