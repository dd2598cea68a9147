"""The simulated ecosystem and the borrower-response model. Imports only the core modules and domain/; no
product package imports sim/. Ground truth is written apart from the events.
"""
