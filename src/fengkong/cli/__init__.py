"""The fengkong command (Typer, rich progress bars)."""
