"""Product mechanics, schedules, day counts, close of business, repayments, delinquency, collections,
provisioning, joint-lending splits.
"""
