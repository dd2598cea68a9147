"""Credit-bureau files, partner-bank tapes and settlement files, portfolio views (vintages, roll rates)."""
