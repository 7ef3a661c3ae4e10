"""One module per tier; each builds its tier from components with plain settings values."""
