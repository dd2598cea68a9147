"""The identity graph and its dated ring memberships, scam and fake-hotline detection, the interception
log.
"""
