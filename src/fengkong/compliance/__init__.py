"""Pure rules: IRR and annualised rates, cap and LPR tables, disclosure documents, reason-code texts. Imports
nothing above domain/.
"""
