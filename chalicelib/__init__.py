"""motcua: the serverless one-stop-shop backend. Everything but the wiring in app.py lives here."""
